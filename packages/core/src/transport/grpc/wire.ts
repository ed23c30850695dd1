import type { JsonObject } from '@bufbuild/protobuf';
import type { JsonValue } from '../../protocol.js';
import { formatPath } from '../../validation.js';
import type { TaskAssignment } from './gen/stepflow/v1/tasks_pb.js';
import { fromValue, UnrepresentableValueError } from './values.js';

/**
 * Hand-written protobuf for the messages every task sends and receives (TaskAssignment in,
 * TaskHeartbeatRequest/Response and CompleteTaskRequest/Response), byte for byte what
 * protobuf-es writes for the same message (fields in number order, implicit-presence zeros
 * left out, minimal varints), and read with protobuf-es's semantics (unknown fields skipped,
 * the last of a repeated singular field wins, repeated message fields merge, strings checked
 * as UTF-8). Values go straight between JavaScript and the wire: no message objects in
 * between, which is most of what reflection-based encoding costs for these small messages.
 * test/unit/grpc-wire.test.ts checks both directions against protobuf-es.
 */

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const SGROUP = 3;
const EGROUP = 4;
const I32 = 5;

/** protobuf-es's default recursion limit for reading (messages nested deeper are refused). */
const RECURSION_LIMIT = 100;
const FLOAT32_MAX = 3.4028234663852886e38;

// ---- writing -----------------------------------------------------------------------------------

/**
 * A growing byte buffer. A nested message reserves one byte for its length and moves its
 * content when the length needs more (rare for these messages).
 */
class Writer {
  buf: Buffer;
  pos = 0;
  #view: DataView;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
    this.#view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.#view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  /** An unsigned varint of at most 32 bits (tags, lengths, uint32 and non-negative int32). */
  uint32(value: number): void {
    this.ensure(5);
    const buf = this.buf;
    let pos = this.pos;
    value >>>= 0;
    while (value > 0x7f) {
      buf[pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    buf[pos++] = value;
    this.pos = pos;
  }

  /** An int32 (enums): negative values take ten bytes, as protobuf-es writes them. */
  int32(value: number): void {
    if (value >= 0) return this.uint32(value);
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    let lo = value >>> 0;
    for (let i = 0; i < 4; i++) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    // bits 28–31 of the low word, then the sign-extended high word (all ones)
    buf[pos++] = (lo & 0x0f) | 0x70 | 0x80;
    for (let i = 0; i < 4; i++) buf[pos++] = 0xff;
    buf[pos++] = 0x01;
    this.pos = pos;
  }

  tag(fieldNo: number, wireType: number): void {
    this.uint32((fieldNo << 3) | wireType);
  }

  double(value: number): void {
    this.ensure(8);
    this.#view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  float(value: number): void {
    this.ensure(4);
    this.#view.setFloat32(this.pos, value, true);
    this.pos += 4;
  }

  /** A length-prefixed string (without its tag). */
  string(value: string): void {
    const len = value.length;
    if (len < 128) {
      // One-byte length and, when the text is ASCII, one byte a character.
      this.ensure(len + 1);
      const buf = this.buf;
      let pos = this.pos + 1;
      let i = 0;
      for (; i < len; i++) {
        const code = value.charCodeAt(i);
        if (code > 0x7f) break;
        buf[pos++] = code;
      }
      if (i === len) {
        buf[this.pos] = len;
        this.pos = pos;
        return;
      }
    }
    const bytes = Buffer.byteLength(value, 'utf8');
    this.uint32(bytes);
    this.ensure(bytes);
    this.pos += this.buf.write(value, this.pos, bytes, 'utf8');
  }

  /** Start a nested message: returns where its one-byte length placeholder is. */
  fork(): number {
    this.ensure(1);
    return this.pos++;
  }

  /** End the nested message started at `at`: write its length, moving it when it needs more. */
  join(at: number): void {
    const length = this.pos - at - 1;
    if (length < 0x80) {
      this.buf[at] = length;
      return;
    }
    let size = 1;
    for (let v = length >>> 7; v > 0; v >>>= 7) size++;
    this.ensure(size - 1);
    const buf = this.buf;
    buf.copyWithin(at + size, at + 1, this.pos);
    let pos = at;
    let v = length;
    while (v > 0x7f) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos] = v;
    this.pos += size - 1;
  }

  /** The bytes written after the 5-byte gRPC prefix, framed (uncompressed), in a new buffer. */
  frame(): Buffer {
    const length = this.pos - 5;
    this.buf[0] = 0;
    this.buf.writeUInt32BE(length, 1);
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    return out;
  }
}

let spare: Writer | undefined;

/** A writer with room for the gRPC prefix; the shared one unless it is in use (re-entrancy). */
function takeWriter(): Writer {
  const writer = spare ?? new Writer(1024);
  spare = undefined;
  writer.pos = 5;
  return writer;
}

function giveBack(writer: Writer): void {
  // Keep a moderately sized buffer for the next message; let a huge one go.
  if (writer.buf.length <= 1 << 16) spare = writer;
}

function framed(write: (w: Writer) => void): Buffer {
  const writer = takeWriter();
  try {
    write(writer);
    return writer.frame();
  } finally {
    giveBack(writer);
  }
}

export interface HeartbeatFields {
  taskId: string;
  workerId: string;
  progress?: number | undefined;
  statusMessage?: string | undefined;
  runId?: string | undefined;
}

/** TaskHeartbeatRequest as a gRPC frame. */
export function encodeTaskHeartbeat(request: HeartbeatFields): Buffer {
  return framed((w) => writeTaskHeartbeat(w, request));
}

function writeTaskHeartbeat(w: Writer, request: HeartbeatFields): void {
  if (request.taskId !== '') {
    w.tag(1, LEN);
    w.string(request.taskId);
  }
  if (request.workerId !== '') {
    w.tag(2, LEN);
    w.string(request.workerId);
  }
  if (request.progress !== undefined) {
    const p = request.progress;
    if (Number.isFinite(p) && (p > FLOAT32_MAX || p < -FLOAT32_MAX))
      throw new Error(`invalid float32: ${p}`);
    w.tag(3, I32);
    w.float(p);
  }
  if (request.statusMessage !== undefined) {
    w.tag(4, LEN);
    w.string(request.statusMessage);
  }
  if (request.runId !== undefined) {
    w.tag(5, LEN);
    w.string(request.runId);
  }
}

/** What a CompleteTaskRequest carries besides the task and run ids. */
export type CompletionResult =
  | { case: 'response'; output: unknown }
  | { case: 'error'; code: number; message: string; data?: JsonObject | undefined };

/**
 * CompleteTaskRequest as a gRPC frame. A `response` output is converted as `toValue` does,
 * with the same refusals (UnrepresentableValueError naming the path under `output`).
 */
export function encodeCompleteTask(
  taskId: string,
  result: CompletionResult,
  runId: string | undefined,
): Buffer {
  return framed((w) => {
    if (taskId !== '') {
      w.tag(1, LEN);
      w.string(taskId);
    }
    if (result.case === 'response') {
      w.tag(2, LEN);
      const response = w.fork();
      w.tag(1, LEN);
      const output = w.fork();
      new ValueWriter(w, 'output').value(result.output);
      w.join(output);
      w.join(response);
    } else {
      w.tag(3, LEN);
      const error = w.fork();
      if (result.code !== 0) {
        w.tag(1, VARINT);
        w.int32(result.code);
      }
      if (result.message !== '') {
        w.tag(2, LEN);
        w.string(result.message);
      }
      if (result.data !== undefined) {
        w.tag(3, LEN);
        const data = w.fork();
        new ValueWriter(w, 'data').struct(result.data);
        w.join(data);
      }
      w.join(error);
    }
    if (runId !== undefined) {
      w.tag(4, LEN);
      w.string(runId);
    }
  });
}

/** `google.protobuf.Value` from a JavaScript value, with `toValue`'s checks and error paths. */
class ValueWriter {
  readonly #w: Writer;
  readonly #root: string;
  /** The objects being converted (cycle check) and the keys leading to the current value. */
  readonly #open: object[] = [];
  readonly #path: PropertyKey[] = [];

  constructor(w: Writer, root: string) {
    this.#w = w;
    this.#root = root;
  }

  #error(reason: string): UnrepresentableValueError {
    return new UnrepresentableValueError(formatPath(this.#root, this.#path.slice()), reason);
  }

  /** The fields of one Value message (its oneof `kind`). */
  value(value: unknown): void {
    const w = this.#w;
    switch (typeof value) {
      case 'string':
        w.tag(3, LEN);
        w.string(value);
        return;
      case 'boolean':
        w.tag(4, VARINT);
        w.uint32(value ? 1 : 0);
        return;
      case 'number':
        if (!Number.isFinite(value)) throw this.#error(`${value} is not a finite number`);
        if (Number.isInteger(value) && !Number.isSafeInteger(value) && Math.abs(value) < 2 ** 63)
          throw this.#error(
            `the integer ${value} is beyond 2^53 and cannot be represented exactly; send it as a string`,
          );
        w.tag(2, I64);
        w.double(value);
        return;
      case 'bigint':
        throw this.#error('a BigInt cannot be represented; send it as a string');
      case 'undefined':
      case 'function':
      case 'symbol':
        throw this.#error(`a ${typeof value} is not a JSON value`);
      default:
        break;
    }
    if (value === null) {
      w.tag(1, VARINT);
      w.uint32(0);
      return;
    }
    const object = value as object;
    const open = this.#open;
    if (open.includes(object)) throw this.#error('a circular reference cannot be represented');
    open.push(object);
    if (Array.isArray(object)) {
      w.tag(6, LEN);
      const list = w.fork();
      const path = this.#path;
      for (let i = 0; i < object.length; i++) {
        const item: unknown = object[i];
        path.push(i);
        w.tag(1, LEN);
        const at = w.fork();
        this.value(item === undefined ? null : item);
        w.join(at);
        path.pop();
      }
      w.join(list);
    } else {
      const json = (object as { toJSON?: () => unknown }).toJSON;
      if (typeof json === 'function') {
        this.value(json.call(object));
      } else {
        w.tag(5, LEN);
        const struct = w.fork();
        this.struct(object);
        w.join(struct);
      }
    }
    open.pop();
  }

  /** The fields of one Struct message (its `fields` map entries, in `Object.keys` order). */
  struct(object: object): void {
    const w = this.#w;
    const path = this.#path;
    for (const key of Object.keys(object)) {
      const member = (object as Record<string, unknown>)[key];
      if (member === undefined || typeof member === 'function' || typeof member === 'symbol')
        continue;
      path.push(key);
      w.tag(1, LEN);
      const entry = w.fork();
      w.tag(1, LEN);
      w.string(key);
      w.tag(2, LEN);
      const at = w.fork();
      this.value(member);
      w.join(at);
      w.join(entry);
      path.pop();
    }
  }
}

// ---- reading -----------------------------------------------------------------------------------

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

class Reader {
  readonly buf: Uint8Array;
  pos: number;
  depth = 0;
  #view: DataView | undefined;

  constructor(buf: Uint8Array, pos = 0) {
    this.buf = buf;
    this.pos = pos;
  }

  #bounds(end: number): void {
    if (end > this.buf.length) throw new RangeError('premature EOF');
  }

  uint32(): number {
    const buf = this.buf;
    let b = buf[this.pos++]!;
    if (b < 0x80) return b;
    let result = b & 0x7f;
    b = buf[this.pos++]!;
    result |= (b & 0x7f) << 7;
    if (b < 0x80) return result;
    b = buf[this.pos++]!;
    result |= (b & 0x7f) << 14;
    if (b < 0x80) return result;
    b = buf[this.pos++]!;
    result |= (b & 0x7f) << 21;
    if (b < 0x80) return result;
    b = buf[this.pos++]!;
    result |= (b & 0x0f) << 28;
    // a longer varint (a negative int32 or a uint64): the rest does not fit in 32 bits
    for (let i = 5; (b & 0x80) !== 0 && i < 10; i++) b = buf[this.pos++]!;
    if ((b & 0x80) !== 0) throw new Error('invalid varint');
    this.#bounds(this.pos);
    return result >>> 0;
  }

  /** A tag: field number × 8 + wire type. */
  tag(): number {
    const start = this.pos;
    const tag = this.uint32();
    const read = this.pos - start;
    if (read > 5 || (read === 5 && this.buf[this.pos - 1]! > 0x0f))
      throw new Error('illegal tag: varint overflows uint32');
    if (tag >>> 3 === 0) throw new Error(`illegal tag: field no 0 wire type ${tag & 7}`);
    this.#bounds(this.pos);
    return tag;
  }

  /** The end of a length-delimited field that starts here. */
  limit(): number {
    const len = this.uint32();
    const end = this.pos + len;
    this.#bounds(end);
    return end;
  }

  string(): string {
    const end = this.limit();
    const buf = this.buf;
    const start = this.pos;
    this.pos = end;
    if (end - start <= 64) {
      let ascii = true;
      for (let i = start; i < end; i++) {
        if (buf[i]! > 0x7f) {
          ascii = false;
          break;
        }
      }
      if (ascii) return String.fromCharCode.apply(null, buf.subarray(start, end) as never);
    }
    return strictUtf8.decode(buf.subarray(start, end));
  }

  bool(): boolean {
    // a varint of any width; non-zero is true
    const buf = this.buf;
    let any = 0;
    let b: number;
    let i = 0;
    do {
      b = buf[this.pos++]!;
      any |= b & 0x7f;
    } while ((b & 0x80) !== 0 && ++i < 10);
    this.#bounds(this.pos);
    return any !== 0;
  }

  double(): number {
    this.#bounds(this.pos + 8);
    this.#view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    const v = this.#view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  skip(wireType: number, fieldNo: number, budget = RECURSION_LIMIT - this.depth): void {
    switch (wireType) {
      case VARINT:
        while (this.buf[this.pos++]! & 0x80) {
          // ignore
        }
        break;
      case I64:
        this.pos += 8;
        break;
      case LEN:
        this.pos = this.limit();
        break;
      case I32:
        this.pos += 4;
        break;
      case SGROUP: {
        if (budget <= 0) throw new Error('maximum recursion depth reached');
        for (;;) {
          const tag = this.tag();
          if ((tag & 7) === EGROUP) {
            if (tag >>> 3 !== fieldNo) throw new Error('invalid end group tag');
            break;
          }
          this.skip(tag & 7, tag >>> 3, budget - 1);
        }
        break;
      }
      default:
        throw new Error(`cant skip wire type ${wireType}`);
    }
    this.#bounds(this.pos);
  }

  enter(what: string): void {
    if (++this.depth > RECURSION_LIMIT)
      throw new Error(
        `cannot decode message ${what} from binary: maximum recursion depth of ${RECURSION_LIMIT} reached`,
      );
  }
}

/** The `kind` of a Value being read: merged like protobuf-es merges a repeated message field. */
const enum Kind {
  Unset,
  Scalar,
  Struct,
  List,
}

interface ValueState {
  kind: Kind;
  value: JsonValue;
}

/** Read a Value message (length already consumed: `end`) into JSON, merging into `into`. */
function readValue(r: Reader, end: number, into: ValueState): void {
  r.enter('google.protobuf.Value');
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case (1 << 3) | VARINT: // null_value
        r.uint32();
        into.kind = Kind.Scalar;
        into.value = null;
        break;
      case (2 << 3) | I64: // number_value
        into.kind = Kind.Scalar;
        into.value = r.double();
        break;
      case (3 << 3) | LEN: // string_value
        into.kind = Kind.Scalar;
        into.value = r.string();
        break;
      case (4 << 3) | VARINT: // bool_value
        into.kind = Kind.Scalar;
        into.value = r.bool();
        break;
      case (5 << 3) | LEN: {
        // struct_value: fields add to (overwrite in) an earlier struct_value
        const structEnd = r.limit();
        if (into.kind !== Kind.Struct) {
          into.kind = Kind.Struct;
          into.value = {};
        }
        readStruct(r, structEnd, into.value as { [key: string]: JsonValue });
        break;
      }
      case (6 << 3) | LEN: {
        // list_value: values append to an earlier list_value
        const listEnd = r.limit();
        if (into.kind !== Kind.List) {
          into.kind = Kind.List;
          into.value = [];
        }
        readList(r, listEnd, into.value as JsonValue[]);
        break;
      }
      default:
        r.skip(tag & 7, tag >>> 3);
    }
  }
  if (r.pos !== end) throw new RangeError('premature EOF');
  r.depth--;
}

function readStruct(r: Reader, end: number, out: { [key: string]: JsonValue }): void {
  r.enter('google.protobuf.Struct');
  while (r.pos < end) {
    const tag = r.tag();
    if (tag !== ((1 << 3) | LEN)) {
      r.skip(tag & 7, tag >>> 3);
      continue;
    }
    // a map entry: key (1), value (2); missing ones are "" and an empty Value (null)
    const entryEnd = r.limit();
    let key = '';
    const state: ValueState = { kind: Kind.Unset, value: null };
    while (r.pos < entryEnd) {
      const t = r.tag();
      if (t === ((1 << 3) | LEN)) key = r.string();
      else if (t === ((2 << 3) | LEN)) {
        const valueEnd = r.limit();
        readValue(r, valueEnd, state);
      } else r.skip(t & 7, t >>> 3);
    }
    if (r.pos !== entryEnd) throw new RangeError('premature EOF');
    if (key === '__proto__') {
      // an ordinary key, not a prototype change
      Object.defineProperty(out, key, {
        value: state.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      out[key] = state.value;
    }
  }
  if (r.pos !== end) throw new RangeError('premature EOF');
  r.depth--;
}

function readList(r: Reader, end: number, out: JsonValue[]): void {
  r.enter('google.protobuf.ListValue');
  while (r.pos < end) {
    const tag = r.tag();
    if (tag !== ((1 << 3) | LEN)) {
      r.skip(tag & 7, tag >>> 3);
      continue;
    }
    const valueEnd = r.limit();
    const state: ValueState = { kind: Kind.Unset, value: null };
    readValue(r, valueEnd, state);
    out.push(state.value);
  }
  if (r.pos !== end) throw new RangeError('premature EOF');
  r.depth--;
}

/** Trace context of an execute task (ObservabilityContext; unset fields are absent). */
export interface WireObservability {
  traceId?: string;
  spanId?: string;
  runId?: string;
  flowId?: string;
  stepId?: string;
}

/** A ComponentExecuteRequest with its input already converted to JSON. */
export interface ExecuteRequest {
  componentId: string;
  /** `null` when the request has no input. */
  input: JsonValue;
  attempt: number;
  observability: WireObservability | undefined;
  pathParams: { [key: string]: string };
}

/** A TaskAssignment as the worker uses it. */
export interface PulledTask {
  taskId: string;
  /** `undefined`: a kind this worker does not know. */
  kind: 'execute' | 'listComponents' | undefined;
  execute: ExecuteRequest | undefined;
  /** TaskContext (empty strings when unset). */
  orchestratorServiceUrl: string;
  rootRunId: string;
  heartbeatIntervalSecs: number;
}

/** Decode a TaskAssignment message. */
export function decodeTaskAssignment(bytes: Uint8Array): PulledTask {
  const r = new Reader(bytes);
  const task: PulledTask = {
    taskId: '',
    kind: undefined,
    execute: undefined,
    orchestratorServiceUrl: '',
    rootRunId: '',
    heartbeatIntervalSecs: 0,
  };
  /** The execute request's input so far (a repeated `input` field merges into it). */
  let input: ValueState = { kind: Kind.Unset, value: null };
  const end = bytes.length;
  r.enter('stepflow.v1.TaskAssignment');
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case (1 << 3) | LEN:
        task.taskId = r.string();
        break;
      case (2 << 3) | LEN: {
        const executeEnd = r.limit();
        if (task.kind !== 'execute' || !task.execute) {
          task.kind = 'execute';
          task.execute = {
            componentId: '',
            input: null,
            attempt: 0,
            observability: undefined,
            pathParams: {},
          };
          input = { kind: Kind.Unset, value: null };
        }
        readExecute(r, executeEnd, task.execute, input);
        break;
      }
      case (3 << 3) | LEN: {
        // ListComponentsRequest has no fields
        const listEnd = r.limit();
        r.enter('stepflow.v1.ListComponentsRequest');
        while (r.pos < listEnd) {
          const t = r.tag();
          r.skip(t & 7, t >>> 3);
        }
        r.depth--;
        task.kind = 'listComponents';
        task.execute = undefined;
        break;
      }
      case (4 << 3) | LEN: {
        const contextEnd = r.limit();
        r.enter('stepflow.v1.TaskContext');
        while (r.pos < contextEnd) {
          const t = r.tag();
          if (t === ((1 << 3) | LEN)) task.orchestratorServiceUrl = r.string();
          else if (t === ((2 << 3) | LEN)) task.rootRunId = r.string();
          else r.skip(t & 7, t >>> 3);
        }
        if (r.pos !== contextEnd) throw new RangeError('premature EOF');
        r.depth--;
        break;
      }
      case (5 << 3) | VARINT:
        task.heartbeatIntervalSecs = r.uint32();
        break;
      default:
        r.skip(tag & 7, tag >>> 3);
    }
  }
  if (r.pos !== end) throw new RangeError('premature EOF');
  return task;
}

function readExecute(r: Reader, end: number, out: ExecuteRequest, input: ValueState): void {
  r.enter('stepflow.v1.ComponentExecuteRequest');
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case (1 << 3) | LEN:
        out.componentId = r.string();
        break;
      case (2 << 3) | LEN: {
        const valueEnd = r.limit();
        readValue(r, valueEnd, input);
        out.input = input.value;
        break;
      }
      case (3 << 3) | VARINT:
        out.attempt = r.uint32();
        break;
      case (4 << 3) | LEN: {
        const obsEnd = r.limit();
        const o: WireObservability = (out.observability ??= {});
        r.enter('stepflow.v1.ObservabilityContext');
        while (r.pos < obsEnd) {
          const t = r.tag();
          switch (t) {
            case (1 << 3) | LEN:
              o.traceId = r.string();
              break;
            case (2 << 3) | LEN:
              o.spanId = r.string();
              break;
            case (3 << 3) | LEN:
              o.runId = r.string();
              break;
            case (4 << 3) | LEN:
              o.flowId = r.string();
              break;
            case (5 << 3) | LEN:
              o.stepId = r.string();
              break;
            default:
              r.skip(t & 7, t >>> 3);
          }
        }
        if (r.pos !== obsEnd) throw new RangeError('premature EOF');
        r.depth--;
        break;
      }
      case (5 << 3) | LEN: {
        const entryEnd = r.limit();
        r.enter('stepflow.v1.ComponentExecuteRequest.PathParamsEntry');
        let key = '';
        let value = '';
        while (r.pos < entryEnd) {
          const t = r.tag();
          if (t === ((1 << 3) | LEN)) key = r.string();
          else if (t === ((2 << 3) | LEN)) value = r.string();
          else r.skip(t & 7, t >>> 3);
        }
        if (r.pos !== entryEnd) throw new RangeError('premature EOF');
        r.depth--;
        if (key === '__proto__') {
          Object.defineProperty(out.pathParams, key, {
            value,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        } else {
          out.pathParams[key] = value;
        }
        break;
      }
      default:
        r.skip(tag & 7, tag >>> 3);
    }
  }
  if (r.pos !== end) throw new RangeError('premature EOF');
  r.depth--;
}

/** TaskHeartbeatResponse. */
export interface HeartbeatReply {
  shouldAbort: boolean;
  status: number;
}

export function decodeTaskHeartbeatResponse(bytes: Uint8Array): HeartbeatReply {
  const r = new Reader(bytes);
  const reply: HeartbeatReply = { shouldAbort: false, status: 0 };
  const end = bytes.length;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === ((1 << 3) | VARINT)) reply.shouldAbort = r.bool();
    else if (tag === ((2 << 3) | VARINT)) reply.status = r.uint32() | 0;
    else r.skip(tag & 7, tag >>> 3);
  }
  if (r.pos !== end) throw new RangeError('premature EOF');
  return reply;
}

/** CompleteTaskResponse has no fields; unknown ones are checked for well-formedness only. */
export function decodeCompleteTaskResponse(bytes: Uint8Array): void {
  const r = new Reader(bytes);
  while (r.pos < bytes.length) {
    const tag = r.tag();
    r.skip(tag & 7, tag >>> 3);
  }
  if (r.pos !== bytes.length) throw new RangeError('premature EOF');
}

/** PullTasksRequest as a gRPC frame. */
export function encodePullTasks(queueName: string, workerId: string): Buffer {
  return framed((w) => {
    if (queueName !== '') {
      w.tag(1, LEN);
      w.string(queueName);
    }
    if (workerId !== '') {
      w.tag(2, LEN);
      w.string(workerId);
    }
  });
}

/** A protobuf-es TaskAssignment (from NATS, or a test) as the worker uses it. */
export function pulledTaskOf(assignment: TaskAssignment): PulledTask {
  const task = assignment.task;
  let execute: ExecuteRequest | undefined;
  if (task.case === 'execute') {
    const request = task.value;
    const o = request.observability;
    let observability: WireObservability | undefined;
    if (o) {
      observability = {};
      if (o.traceId !== undefined) observability.traceId = o.traceId;
      if (o.spanId !== undefined) observability.spanId = o.spanId;
      if (o.runId !== undefined) observability.runId = o.runId;
      if (o.flowId !== undefined) observability.flowId = o.flowId;
      if (o.stepId !== undefined) observability.stepId = o.stepId;
    }
    execute = {
      componentId: request.componentId,
      input: request.input === undefined ? null : fromValue(request.input),
      attempt: request.attempt,
      observability,
      pathParams: request.pathParams,
    };
  }
  return {
    taskId: assignment.taskId,
    kind: task.case === 'execute' || task.case === 'listComponents' ? task.case : undefined,
    execute,
    orchestratorServiceUrl: assignment.context?.orchestratorServiceUrl ?? '',
    rootRunId: assignment.context?.rootRunId ?? '',
    heartbeatIntervalSecs: assignment.heartbeatIntervalSecs,
  };
}
