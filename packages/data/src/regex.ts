import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { BadRequestError, ComponentError, ResourceUnavailableError } from '@stepflow-packs/core';
import { RE2JS } from 're2js';

/**
 * User regular expressions run on RE2 (linear time, no backtracking) in a worker thread with a
 * time budget: a linear engine still costs input × program size, and a 1000-state program on a
 * long string would otherwise hold the event loop for seconds.
 */

export interface PatternSpec {
  source: string;
  caseInsensitive: boolean;
}

const COMPLEXITY = /invalid repeat count|expression too large|nests too deeply/;

/** Validate a pattern on the calling thread (cheap); throws -32103 naming the field. */
export function checkPattern(spec: PatternSpec, field: string, maxLength: number): void {
  if (spec.source.length > maxLength) {
    throw new BadRequestError(
      `${field}: the pattern is ${spec.source.length} characters long; at most ${maxLength} are accepted (STEPFLOW_DATA_MAX_PATTERN_LENGTH)`,
      { reason: 'regex_too_long', field, limit: maxLength, actual: spec.source.length },
    );
  }
  try {
    RE2JS.compile(spec.source, flagsOf(spec));
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    const tooComplex = COMPLEXITY.test(detail);
    throw new BadRequestError(
      `${field}: ${tooComplex ? 'the pattern is too complex' : 'not a valid RE2 regular expression'} (${detail})`,
      { reason: tooComplex ? 'regex_too_complex' : 'invalid_regex', field },
    );
  }
}

function flagsOf(spec: PatternSpec): number {
  return spec.caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0;
}

// Evaluated as a CommonJS worker script; re2js is loaded from the path resolved here.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { RE2JS } = require(workerData.re2js);
// Linux: nice this thread (nice is per thread there) so matching yields the CPU to request handling.
try {
  const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isInteger(tid) && tid > 0) require('node:os').setPriority(tid, 10);
} catch {}
parentPort.on('message', ({ patterns, inputs }) => {
  try {
    const results = patterns.map((p, i) => {
      const re = RE2JS.compile(p.source, p.flags);
      const { text, lengths } = inputs[i];
      const out = new Uint8Array(lengths.length);
      let at = 0;
      for (let j = 0; j < lengths.length; j += 1) {
        out[j] = re.matcher(text.slice(at, at + lengths[j])).find() ? 1 : 0;
        at += lengths[j];
      }
      return out;
    });
    parentPort.postMessage({ results });
  } catch (err) {
    parentPort.postMessage({ error: String((err && err.message) || err) });
  }
});
`;

const MAX_WORKERS = 2;
const MAX_IDLE = 2;

interface Reply {
  results?: Uint8Array[];
  error?: string;
}

class RegexPool {
  readonly #idle: Worker[] = [];
  readonly #waiting: (() => void)[] = [];
  #busy = 0;
  #re2jsPath: string | undefined;

  async run(
    patterns: PatternSpec[],
    inputs: string[][],
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<Uint8Array[]> {
    if (this.#busy >= MAX_WORKERS)
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#busy += 1;
    let worker: Worker | undefined;
    try {
      worker = this.#idle.pop() ?? this.#spawn();
      const results = await this.#job(worker, patterns, inputs, timeoutMs, signal);
      if (this.#idle.length < MAX_IDLE) this.#idle.push(worker);
      else void worker.terminate();
      return results;
    } catch (err) {
      if (worker) void worker.terminate();
      throw err;
    } finally {
      this.#busy -= 1;
      this.#waiting.shift()?.();
    }
  }

  #spawn(): Worker {
    this.#re2jsPath ??= createRequire(import.meta.url).resolve('re2js');
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { re2js: this.#re2jsPath },
    });
    worker.unref();
    // Errors are handled per job; an idle worker that dies is simply dropped.
    worker.on('error', () => {});
    worker.on('exit', () => {
      const at = this.#idle.indexOf(worker);
      if (at >= 0) this.#idle.splice(at, 1);
    });
    return worker;
  }

  #job(
    worker: Worker,
    patterns: PatternSpec[],
    inputs: string[][],
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<Uint8Array[]> {
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        signal.removeEventListener('abort', onAbort);
      };
      const settle = (fn: () => void) => {
        cleanup();
        fn();
      };
      const onMessage = (reply: Reply) =>
        settle(() =>
          reply.results
            ? resolve(reply.results)
            : reject(new ComponentError(`The regex worker failed: ${reply.error ?? 'no result'}`)),
        );
      const onError = (err: Error) =>
        settle(() =>
          reject(
            new ResourceUnavailableError(`The regex worker failed: ${err.message}`, {
              reason: 'regex_worker_failed',
            }),
          ),
        );
      const onExit = () =>
        settle(() =>
          reject(
            new ResourceUnavailableError('The regex worker exited unexpectedly', {
              reason: 'regex_worker_failed',
            }),
          ),
        );
      const onAbort = () =>
        settle(() =>
          reject(new ComponentError('The request was cancelled', { reason: 'cancelled' })),
        );
      const timer = setTimeout(
        () =>
          settle(() =>
            reject(
              new BadRequestError(
                `The regular expressions did not finish within ${timeoutMs} ms (STEPFLOW_DATA_REGEX_TIMEOUT_MS); simplify the pattern or test shorter strings`,
                { reason: 'regex_timeout', limit: timeoutMs },
              ),
            ),
          ),
        timeoutMs,
      );
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      signal.addEventListener('abort', onAbort, { once: true });
      // One concatenated string per pattern clones far faster than thousands of small ones.
      worker.postMessage({
        patterns: patterns.map((p) => ({ source: p.source, flags: flagsOf(p) })),
        inputs: inputs.map((list) => ({
          text: list.join(''),
          lengths: Int32Array.from(list, (item) => item.length),
        })),
      });
    });
  }
}

let pool: RegexPool | undefined;

/** Test each list of strings against its pattern; resolves one 0/1 array per pattern. */
export function matchAll(
  patterns: PatternSpec[],
  inputs: string[][],
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Uint8Array[]> {
  pool ??= new RegexPool();
  return pool.run(patterns, inputs, timeoutMs, signal);
}
