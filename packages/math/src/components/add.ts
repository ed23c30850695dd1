import { defineComponent, z } from '@stepflow-packs/core';
import { finite } from '../finite.js';
import { pair } from '../schemas.js';

export const add = defineComponent({
  name: 'add',
  description: 'Add two numbers.',
  input: pair,
  output: z.object({ sum: z.number().describe('a + b') }),
  execute(input) {
    return { sum: finite(input.a + input.b, 'addition') };
  },
});
