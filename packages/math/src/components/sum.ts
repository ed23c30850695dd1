import { defineComponent, z } from '@stepflow-packs/core';
import { finite } from '../finite.js';
import { values } from '../schemas.js';

export const sum = defineComponent({
  name: 'sum',
  description: 'Sum a list of numbers.',
  input: values,
  output: z.object({ sum: z.number().describe('Sum of the values') }),
  execute(input) {
    return {
      sum: finite(
        input.values.reduce((acc, v) => acc + v, 0),
        'sum',
      ),
    };
  },
});
