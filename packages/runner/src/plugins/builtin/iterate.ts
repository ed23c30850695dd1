import { ErrorCodes } from '@stepflow-packs/core';
import { failed, success } from '../../execute/result.js';
import { isFloatMember, isObject, type Json } from '../../json/value.js';
import { builtinError, optionalUint, type Builtin } from './types.js';

export const iterate: Builtin = {
  name: 'iterate',
  description: 'Run a flow repeatedly: {next: y} continues with y, {result: x} stops with x',
  async execute(input, host) {
    if (input.flow === undefined || input.flow === null)
      throw builtinError('iterate', 'input.flow: an inline flow is required');
    try {
      host.checkFlow(input.flow);
    } catch (err) {
      throw builtinError('iterate', `input.flow: ${(err as Error).message}`);
    }
    const maxIterations = optionalUint('iterate', input, 'max_iterations') ?? 1000;
    let current: Json = input.initial_input ?? null;
    let currentFloat = isFloatMember(input, 'initial_input');
    for (let iteration = 0; iteration < maxIterations; iteration++) {
      const { result } = await host.runFlow(input.flow, current, currentFloat);
      if (result.outcome !== 'success') {
        if (host.version === 'v0.8')
          throw builtinError(
            'iterate',
            `iteration ${iteration + 1} did not succeed (${result.outcome})`,
          );
        return result.outcome === 'failed'
          ? result
          : failed(
              ErrorCodes.COMPONENT_BAD_REQUEST,
              `iterate: iteration ${iteration + 1} was skipped`,
            );
      }
      const value = result.value;
      if (isObject(value) && 'result' in value)
        return success({ result: value.result!, iterations: iteration + 1, terminated: false });
      if (isObject(value) && 'next' in value) {
        current = value.next!;
        currentFloat = isFloatMember(value, 'next');
        continue;
      }
      const message = `iterate: iteration ${iteration + 1} returned neither {result: ...} nor {next: ...}`;
      if (host.version === 'v0.8') throw builtinError('iterate', message);
      return failed(ErrorCodes.COMPONENT_BAD_REQUEST, message);
    }
    return success({ result: current, iterations: maxIterations, terminated: true });
  },
};
