import { ComponentValueError, defineComponent, z } from '@stepflow-packs/core';

export const sqrt = defineComponent({
  name: 'sqrt',
  description: 'Square root of a non-negative number.',
  input: z.strictObject({ value: z.number().describe('A number >= 0') }),
  output: z.object({ result: z.number().describe('The square root') }),
  execute({ value }) {
    if (value < 0) {
      throw new ComponentValueError(`Cannot take the square root of a negative number (${value})`, {
        reason: 'negative_operand',
        field: 'value',
      });
    }
    return { result: Math.sqrt(value) };
  },
});
