import {
  compareResults,
  type CaseReport as RunnerCase,
  type Json,
  type JsonObject,
} from '@stepflow-packs/runner';
import { exceptionFor, KEY_ORDER_DEPENDENT } from './exceptions.js';
import type { Generation } from './generation.js';
import type { CaseReport } from './run-folder.js';

const TIMESTAMP = /\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d(:?\d\d)?)?/g;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const LOOPBACK_PORT = /127\.0\.0\.1:\d+/g;
const BLOB_ID = /^[0-9a-f]{64}$/;
/** Members whose numbers measure time (durations, clocks). */
const TIMING_KEY = /time|_ms$|timestamp|uptime/;

/**
 * What differs between two runs of the same case by nature: clocks, durations, ids drawn at
 * random, the ports of test servers started for each run, and blob ids (content hashes of
 * results that hold a clock). Everything else must be equal.
 */
export function withoutVolatile(value: Json, key = ''): Json {
  if (typeof value === 'string') {
    if (BLOB_ID.test(value)) return '<blob id>';
    return value
      .replace(TIMESTAMP, '<timestamp>')
      .replace(UUID, '<uuid>')
      .replace(LOOPBACK_PORT, '127.0.0.1:<port>');
  }
  if (typeof value === 'number' && TIMING_KEY.test(key)) return '<number>';
  if (Array.isArray(value)) return value.map((v) => withoutVolatile(v, key));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutVolatile(v, k)]));
  return value;
}

/** 0.13's REST results carry no `error.data`. */
function asServerReports(generation: Generation, result: JsonObject): JsonObject {
  if (generation !== '0.13.0' || result.outcome !== 'failed') return result;
  const error = result.error as JsonObject;
  const { data: _data, ...rest } = error;
  return { ...result, error: rest };
}

/**
 * Cases whose FlowResult on the real server differs from the runner's emulation of the same
 * release (volatile values aside). A difference is a bug in the emulation, except for the
 * cases listed in EXCEPTIONS (the server's own defects) and, on 0.13, the cases whose results
 * report an object's key order (KEY_ORDER_DEPENDENT), which are left out.
 */
export function parityDifferences(
  generation: Generation,
  server: readonly CaseReport[],
  emulated: readonly RunnerCase[],
): string[] {
  const out: string[] = [];
  for (const real of server) {
    if (real.status === 'skipped' || real.name.startsWith('(')) continue;
    if (exceptionFor(generation, real.file, real.name)) continue;
    if (
      generation === '0.13.0' &&
      KEY_ORDER_DEPENDENT.some((k) => k.file === real.file && k.case === real.name)
    )
      continue;
    const emu = emulated.find((c) => c.file === real.file && c.name === real.name);
    const label = `${real.file} › ${real.name}`;
    if (!emu || emu.actual === undefined || real.actual === undefined) {
      out.push(
        `${label}: no result to compare (server ${real.status}, emulator ${emu?.status ?? 'missing'})`,
      );
      continue;
    }
    const differences = compareResults(
      withoutVolatile(real.actual),
      withoutVolatile(asServerReports(generation, emu.actual as JsonObject)) as JsonObject,
      { mode: 'exact', codeNames: generation === '0.13.0' },
    );
    if (differences.length)
      out.push(
        `${label}: ${differences
          .slice(0, 3)
          .map(
            (d) =>
              `${d.path}: server ${JSON.stringify(d.expected)}, emulator ${JSON.stringify(d.actual)}`,
          )
          .join('; ')}`,
      );
  }
  return out;
}
