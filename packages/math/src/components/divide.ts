import { ComponentValueError, defineComponent, z } from '@stepflow-packs/core';
import { finite } from '../finite.js';
import { pair } from '../schemas.js';

export const divide = defineComponent({
  name: 'divide',
  description: 'Divide a by b; dividing by zero is a value error (-32101).',
  input: pair,
  output: z.object({ quotient: z.number().describe('a / b') }),
  execute({ a, b }) {
    if (b === 0)
      throw new ComponentValueError('Division by zero: b must not be 0', {
        reason: 'division_by_zero',
        field: 'b',
      });
    return { quotient: finite(a / b, 'division') };
  },
});
