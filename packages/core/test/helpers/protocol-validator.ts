import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import { DIALECT_METHODS, type JsonRpcDialect as Dialect } from '../../src/protocol.js';

const schemaDir = new URL('../fixtures/schemas/', import.meta.url);
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: false });
const KEYS: Record<Dialect, string> = { 'v0.8': 'protocol-v0.8', 'v0.11': 'protocol-v0.11' };
for (const [dialect, key] of Object.entries(KEYS)) {
  const file = dialect === 'v0.8' ? 'protocol-v0.8.json' : 'protocol-v0.11.json';
  ajv.addSchema(JSON.parse(readFileSync(new URL(file, schemaDir), 'utf8')), key);
}

const PARAMS: Record<string, string> = {
  initialize: 'InitializeParams',
  initialized: 'Initialized',
  'components/list': 'ComponentListParams',
  'components/info': 'ComponentInfoParams',
  'components/execute': 'ComponentExecuteParams',
  'components/infer_schema': 'ComponentInferSchemaParams',
  'blobs/put': 'PutBlobParams',
  'blobs/get': 'GetBlobParams',
};
const RESULTS: Record<string, string> = {
  initialize: 'InitializeResult',
  'components/list': 'ListComponentsResult',
  'components/info': 'ComponentInfoResult',
  'components/execute': 'ComponentExecuteResult',
  'components/infer_schema': 'ComponentInferSchemaResult',
  'blobs/put': 'PutBlobResult',
  'blobs/get': 'GetBlobResult',
};

function validator(dialect: Dialect, def: string): ValidateFunction {
  const fn = ajv.getSchema(`${KEYS[dialect]}#/$defs/${def}`);
  if (!fn) throw new Error(`no $defs/${def} in ${KEYS[dialect]}`);
  return fn;
}

/** Port of the v0.8 runtime's strict frame rules (what it rejects as an invalid frame). */
export function strictFrameViolation(line: string, dialect: Dialect): string | null {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return 'not JSON';
  }
  if (!m || typeof m !== 'object' || Array.isArray(m)) return 'not an object';
  if (m.jsonrpc !== '2.0') return 'jsonrpc != 2.0';
  if ('id' in m && !(typeof m.id === 'string' || Number.isSafeInteger(m.id)))
    return `bad id ${JSON.stringify(m.id)}`;
  if ('method' in m && !DIALECT_METHODS[dialect].has(m.method as string))
    return `unknown method ${String(m.method)}`;
  if (!('method' in m)) {
    if (!('id' in m)) return 'neither id nor method';
    if ('result' in m === 'error' in m) return 'needs exactly one of result/error';
    if ('error' in m && !Number.isInteger((m.error as { code?: unknown })?.code))
      return 'non-integer error code';
  }
  return null;
}

export interface Violation {
  dialect: Dialect;
  direction: string;
  problem: string;
  frame: string;
}

/**
 * A frame tap that validates every message against the official protocol schema of its dialect
 * (envelope + method-specific params/result) plus the strict frame rules. Request ids are
 * remembered per direction so responses are checked against the right result schema.
 */
export class ProtocolTap {
  readonly violations: Violation[] = [];
  frames = 0;
  readonly #methods = new Map<string, string>();

  constructor(readonly dialect: Dialect) {}

  readonly tap = (direction: 'sent' | 'received', frame: string): void => {
    this.frames++;
    const fail = (problem: string): void => {
      this.violations.push({
        dialect: this.dialect,
        direction,
        problem,
        frame: frame.slice(0, 300),
      });
    };
    const strict = strictFrameViolation(frame, this.dialect);
    if (strict) return fail(strict);
    const m = JSON.parse(frame) as Record<string, unknown>;
    const key = (id: unknown, dir: string) => `${dir}:${typeof id}:${String(id)}`;
    const check = (def: string | undefined, value: unknown, what: string) => {
      if (!def) return;
      const fn = validator(this.dialect, def);
      if (!fn(value)) fail(`${what} fails $defs/${def}: ${ajv.errorsText(fn.errors)}`);
    };
    // Envelope members are checked one by one against their $defs: the envelope schemas use a
    // oneOf over overlapping param/result shapes that rejects valid messages (schemas README).
    check('JsonRpc', m.jsonrpc, 'jsonrpc');
    if ('id' in m) check('RequestId', m.id, 'id');
    if ('method' in m) {
      if (!('params' in m)) fail('params missing');
      if ('id' in m) check('Method', m.method, 'method');
      check(PARAMS[m.method as string], m.params, `${String(m.method)} params`);
      if ('id' in m) this.#methods.set(key(m.id, direction), m.method as string);
    } else {
      const requestDirection = direction === 'sent' ? 'received' : 'sent';
      const method = this.#methods.get(key(m.id, requestDirection));
      this.#methods.delete(key(m.id, requestDirection));
      if ('error' in m) check('Error', m.error, 'error');
      else if (method) check(RESULTS[method], m.result, `${method} result`);
    }
  };
}
