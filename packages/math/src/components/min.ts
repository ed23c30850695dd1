import { defineComponent, z } from '@stepflow-packs/core';
import { finite } from '../finite.js';
import { values } from '../schemas.js';

export const min = defineComponent({
  name: 'min',
  description: 'Smallest number of a list.',
  input: values,
  output: z.object({ min: z.number().describe('Smallest value') }),
  execute(input) {
    return {
      min: finite(
        input.values.reduce((acc, v) => Math.min(acc, v)),
        'min',
      ),
    };
  },
});
