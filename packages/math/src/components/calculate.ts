import { ComponentValueError, defineComponent, z } from '@stepflow-packs/core';
import { finite } from '../finite.js';

const operations = {
  add: (operands: number[]) => operands.reduce((acc, v) => acc + v, 0),
  multiply: (operands: number[]) => operands.reduce((acc, v) => acc * v, 1),
  power: (operands: number[]) => {
    if (operands.length !== 2) {
      throw new ComponentValueError(
        `power needs exactly 2 operands (base, exponent), got ${operands.length}`,
        {
          reason: 'operand_count',
          field: 'operands',
          expected: 2,
          actual: operands.length,
        },
      );
    }
    return operands[0]! ** operands[1]!;
  },
};

/** The `calculate` contract from Stepflow's custom-component documentation. */
export const calculate = defineComponent({
  name: 'calculate',
  description: 'Apply an arithmetic operation (add, multiply, power) to a list of operands.',
  input: z.strictObject({
    operation: z.enum(['add', 'multiply', 'power']).describe('Operation to apply'),
    operands: z
      .array(z.number())
      .min(1)
      .describe('Operands (power takes exactly two: base, exponent)'),
  }),
  output: z.object({
    result: z.number().describe('The result'),
    operation_performed: z.string().describe('Human-readable description of the computation'),
  }),
  execute({ operation, operands }) {
    const result = finite(operations[operation](operands), operation);
    const symbol = { add: ' + ', multiply: ' * ', power: ' ^ ' }[operation];
    return { result, operation_performed: `${operands.join(symbol)} = ${result}` };
  },
});
