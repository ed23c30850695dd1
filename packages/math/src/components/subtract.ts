import { defineComponent, z } from '@stepflow-packs/core';
import { finite } from '../finite.js';
import { pair } from '../schemas.js';

export const subtract = defineComponent({
  name: 'subtract',
  description: 'Subtract b from a.',
  input: pair,
  output: z.object({ difference: z.number().describe('a - b') }),
  execute(input) {
    return { difference: finite(input.a - input.b, 'subtraction') };
  },
});
