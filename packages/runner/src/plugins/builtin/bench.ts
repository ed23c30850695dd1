import { success } from '../../execute/result.js';
import { builtinError, type Builtin } from './types.js';

/** 0.13 `/noop`: returns its input unchanged (upstream uses it for benchmarks). */
export const noop: Builtin = {
  name: 'noop',
  description: 'No-op component that returns its input unchanged. Used for benchmarking.',
  since: 'v0.13',
  async execute(_input, _host, _ctx, raw) {
    return success(raw);
  },
};

const MAX_SLEEP_MS = 2_147_483_647;

/** 0.13 `/sleep`: `{duration_ms, passthrough?}` → the same after sleeping. */
export const sleep: Builtin = {
  name: 'sleep',
  description:
    'Sleeps for a specified duration then returns. Used for benchmarking concurrent flow capacity.',
  since: 'v0.13',
  async execute(input) {
    const ms = input.duration_ms;
    if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0 || ms > MAX_SLEEP_MS)
      throw builtinError('sleep', 'input.duration_ms: expected a non-negative integer');
    await new Promise((resolve) => setTimeout(resolve, ms));
    return success(
      input.passthrough === undefined
        ? { duration_ms: ms }
        : { duration_ms: ms, passthrough: input.passthrough },
    );
  },
};
