import { defineComponent, z } from '@stepflow-packs/core';
import { finite } from '../finite.js';
import { pair } from '../schemas.js';

export const multiply = defineComponent({
  name: 'multiply',
  description: 'Multiply two numbers.',
  input: pair,
  output: z.object({ product: z.number().describe('a * b') }),
  execute(input) {
    return { product: finite(input.a * input.b, 'multiplication') };
  },
});
