import { createTestKit } from '@stepflow-packs/core/testing';
import { describe, expect, it } from 'vitest';
import { mathPack } from '../src/index.js';

const kit = createTestKit(mathPack);
const error = async (component: string, input: unknown) => {
  const r = await kit.call(component, input);
  if (r.ok) throw new Error(`expected ${component} to fail, got ${JSON.stringify(r.output)}`);
  return r.error;
};

describe('calculate (Stepflow docs contract)', () => {
  it.each([
    ['add', [1, 2, 3.5], 6.5, '1 + 2 + 3.5 = 6.5'],
    ['multiply', [2, 3, 4], 24, '2 * 3 * 4 = 24'],
    ['power', [2, 10], 1024, '2 ^ 10 = 1024'],
    ['add', [7], 7, '7 = 7'],
  ])('%s of %j gives %d', async (operation, operands, result, performed) => {
    expect(await kit.execute('calculate', { operation, operands })).toEqual({
      result,
      operation_performed: performed,
    });
  });

  it('answers -32101 saying power needs exactly 2 operands', async () => {
    expect(await error('calculate', { operation: 'power', operands: [2] })).toMatchObject({
      code: -32101,
      message: 'power needs exactly 2 operands (base, exponent), got 1',
      data: { field: 'operands', expected: 2, actual: 1 },
    });
  });

  it('answers -32003 for an unknown operation', async () => {
    expect(await error('calculate', { operation: 'divide', operands: [1, 2] })).toMatchObject({
      code: -32003,
      message: expect.stringMatching(/^input\.operation: /),
    });
  });

  it('answers -32003 naming the field when operands is empty', async () => {
    expect(await error('calculate', { operation: 'add', operands: [] })).toMatchObject({
      code: -32003,
      message: expect.stringMatching(/^input\.operands: /),
    });
  });

  it('answers -32101 instead of Infinity when the result overflows', async () => {
    expect(await error('calculate', { operation: 'power', operands: [10, 400] })).toMatchObject({
      code: -32101,
      data: { reason: 'non_finite_result' },
    });
    expect(
      await error('calculate', { operation: 'multiply', operands: [1e200, 1e200] }),
    ).toMatchObject({ code: -32101 });
  });
});

describe('single-purpose components', () => {
  it.each([
    ['add', { a: 2, b: 3 }, { sum: 5 }],
    ['subtract', { a: 2, b: 3 }, { difference: -1 }],
    ['multiply', { a: -2, b: 3 }, { product: -6 }],
    ['divide', { a: 7, b: 2 }, { quotient: 3.5 }],
    ['power', { base: 2, exponent: -1 }, { result: 0.5 }],
    ['sqrt', { value: 16 }, { result: 4 }],
    ['round', { value: 2.345, decimals: 2 }, { result: 2.35 }],
    ['round', { value: 1.005, decimals: 2 }, { result: 1.01 }],
    ['round', { value: -2.5 }, { result: -3 }],
    ['sum', { values: [1, 2, 3] }, { sum: 6 }],
    ['mean', { values: [1, 2, 3, 4] }, { mean: 2.5 }],
    ['min', { values: [3, -1, 2] }, { min: -1 }],
    ['max', { values: [3, -1, 2] }, { max: 3 }],
    ['multiply', { a: -0, b: 5 }, { product: 0 }],
  ])('%s(%j) = %j', async (component, input, output) => {
    expect(await kit.execute(component, input)).toEqual(output);
  });

  it('answers -32101 on division by zero, never Infinity or null', async () => {
    expect(await error('divide', { a: 1, b: 0 })).toEqual({
      code: -32101,
      message: 'Division by zero: b must not be 0',
      data: { reason: 'division_by_zero', field: 'b' },
    });
  });

  it('answers -32101 for the square root of a negative number', async () => {
    expect(await error('sqrt', { value: -4 })).toMatchObject({
      code: -32101,
      data: { field: 'value' },
    });
  });

  it('answers -32101 when a sum overflows', async () => {
    expect(await error('sum', { values: [Number.MAX_VALUE, Number.MAX_VALUE] })).toMatchObject({
      code: -32101,
    });
  });

  it('computes the mean of huge values without a spurious overflow', async () => {
    expect(await kit.execute('mean', { values: [Number.MAX_VALUE, Number.MAX_VALUE] })).toEqual({
      mean: Number.MAX_VALUE,
    });
  });

  it('answers -32101 when a power has no real result', async () => {
    expect(await error('power', { base: -8, exponent: 1 / 3 })).toMatchObject({
      code: -32101,
      data: { reason: 'non_finite_result' },
    });
  });

  it('is strict: no coercion of strings and no unknown keys (-32003)', async () => {
    expect(await error('add', { a: '1', b: 2 })).toMatchObject({
      code: -32003,
      message: expect.stringMatching(/^input\.a: .*expected number, received string/),
    });
    expect(await error('add', { a: 1, b: 2, c: 3 })).toMatchObject({
      code: -32003,
      message: 'input.c: unknown key (not allowed by the schema)',
    });
    expect(await error('sum', { values: [] })).toMatchObject({ code: -32003 });
    expect(await error('round', { value: 1, decimals: 1.5 })).toMatchObject({ code: -32003 });
  });

  it('serves health_check with the pack name and version', async () => {
    expect(await kit.execute('health_check', null)).toMatchObject({
      status: 'healthy',
      pack: 'math',
      version: mathPack.version,
    });
  });
});
