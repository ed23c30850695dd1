import { defineComponent, z } from '@stepflow-packs/core';
import { finite } from '../finite.js';
import { values } from '../schemas.js';

export const mean = defineComponent({
  name: 'mean',
  description: 'Arithmetic mean of a list of numbers.',
  input: values,
  output: z.object({ mean: z.number().describe('Mean of the values') }),
  execute(input) {
    return {
      mean: finite(
        input.values.reduce((acc, v) => acc + v / input.values.length, 0),
        'mean',
      ),
    };
  },
});
