import type { Generation } from './generation.js';

/**
 * Cases that cannot pass on a generation of the real server, with the reason. Every entry is
 * listed in packages/interop/README.md. An excepted case still runs; if it passes, the suite
 * fails so that the list never goes stale.
 */
export interface Exception {
  generation: Generation;
  /** Flow file relative to workflows/, e.g. `math/statistics.yaml`. */
  file: string;
  /** Case name; absent = every case of the file. */
  case?: string;
  reason: string;
  /**
   * The outcome depends on chance (e.g. the server's hash order), so a pass is not stale: it is
   * counted as passed.
   */
  nondeterministic?: boolean;
}

const STRUCT_KEY_ORDER =
  '0.13 hands step input to the worker as a protobuf Struct, whose key order is arbitrary ' +
  '(a Rust HashMap with a random seed per process), so output that reflects input key order differs whenever the order comes out different (it passes by chance now and then)';

export const EXCEPTIONS: readonly Exception[] = [
  {
    generation: '0.13.0',
    file: 'http/errors-and-retries.yaml',
    reason:
      'POST /api/v1/flows rejects the flow: "invalid flow definition: invalid type: floating point `2.0`, ' +
      'expected u32" — 0.13 REST reads the flow through a protobuf Struct, so the integer `onError.maxRetries: 2` ' +
      'arrives as a double and fails to parse (any flow with an integer-typed flow field is affected)',
  },
  {
    generation: '0.13.0',
    file: 'http/json.yaml',
    case: 'json document and selected field',
    reason: `${STRUCT_KEY_ORDER}: the POSTed json_data {order, items} is serialized as {"items":…,"order":42}`,
    nondeterministic: true,
  },
  {
    generation: '0.13.0',
    file: 'data/process-data.yaml',
    case: "title case keeps e-mail addresses (the documentation's unit test)",
    reason: `${STRUCT_KEY_ORDER}: metadata.original_keys/processed_keys come out [email, name]`,
    nondeterministic: true,
  },
];

export function exceptionFor(
  generation: Generation,
  file: string,
  caseName: string,
): Exception | undefined {
  return EXCEPTIONS.find(
    (e) =>
      e.generation === generation &&
      e.file === file &&
      (e.case === undefined || e.case === caseName),
  );
}

/**
 * Cases whose result reports the order of an object's keys, which 0.13 does not keep (see
 * STRUCT_KEY_ORDER): they pass on the server, but their FlowResult cannot equal the emulator's
 * every time, so the parity check leaves them out on 0.13.
 */
export const KEY_ORDER_DEPENDENT: readonly { file: string; case: string }[] = [
  { file: 'data/process-data.yaml', case: "uppercase (the documentation's integration test)" },
  {
    file: 'data/process-data.yaml',
    case: "title case keeps e-mail addresses (the documentation's unit test)",
  },
  { file: 'examples/process-and-cache.yaml', case: 'full_integration_test' },
  { file: 'examples/process-and-cache.yaml', case: 'title case survives the cache round trip' },
  { file: 'http/json.yaml', case: 'json document and selected field' },
];
