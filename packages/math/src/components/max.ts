import { defineComponent, z } from '@stepflow-packs/core';
import { finite } from '../finite.js';
import { values } from '../schemas.js';

export const max = defineComponent({
  name: 'max',
  description: 'Largest number of a list.',
  input: values,
  output: z.object({ max: z.number().describe('Largest value') }),
  execute(input) {
    return {
      max: finite(
        input.values.reduce((acc, v) => Math.max(acc, v)),
        'max',
      ),
    };
  },
});
