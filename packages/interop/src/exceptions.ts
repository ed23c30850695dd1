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

const IF_BRANCH_DEPENDENCIES =
  'stepflow-server 0.11.1 does not count steps referenced only inside a `$if` `then`/`else` branch as ' +
  'dependencies of the flow output: it never runs them and fails the run with -32202 ' +
  '"Step upsert not completed" (reproduced with /math/add steps; the local runner evaluates the taken branch lazily)';

const IF_BRANCH_DEPENDENCIES_013 =
  'stepflow-server 0.13.0 has the same `$if` branch gap as 0.11.1: steps referenced only inside ' +
  '`then`/`else` never run and the run fails with ORCHESTRATOR_ERROR "Step download not completed"';

const STRUCT_KEY_ORDER =
  '0.13 hands step input to the worker as a protobuf Struct, whose key order is arbitrary ' +
  '(a Rust HashMap with a random seed per process), so output that reflects input key order differs whenever the order comes out different (it passes by chance now and then)';

export const EXCEPTIONS: readonly Exception[] = [
  {
    generation: '0.11.1',
    file: 'postgres/roundtrip.yaml',
    case: 'products round trip with JSON, arrays, numerics and timestamps',
    reason: IF_BRANCH_DEPENDENCIES,
  },
  {
    generation: '0.11.1',
    file: 'postgres/roundtrip.yaml',
    case: 'repeated keys in one upsert call - the last record wins',
    reason: IF_BRANCH_DEPENDENCIES,
  },
  {
    generation: '0.13.0',
    file: 'postgres/roundtrip.yaml',
    case: 'products round trip with JSON, arrays, numerics and timestamps',
    reason: IF_BRANCH_DEPENDENCIES_013,
  },
  {
    generation: '0.13.0',
    file: 'postgres/roundtrip.yaml',
    case: 'repeated keys in one upsert call - the last record wins',
    reason: IF_BRANCH_DEPENDENCIES_013,
  },
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
