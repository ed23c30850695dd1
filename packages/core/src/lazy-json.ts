/**
 * Deferred parsing of large array inputs.
 *
 * A request of several megabytes is nearly always one big array (the records of a bulk load).
 * Parsing it whole before the component starts puts `JSON.parse` and the garbage collection of
 * its result in front of the component's own work. For the input fields a component declares
 * lazy (see `lazyArray()`), the frame parser instead scans such an array once for its element
 * boundaries (string-aware; about a third of the cost of parsing it), parses the rest of the
 * frame, and leaves a `DeferredJsonArray` in the field: the component then parses elements batch
 * by batch when it reaches them, overlapping that work with its own I/O.
 *
 * Only `params.input.<field>` of a request is ever deferred, only in frames of at least
 * `LAZY_FRAME_MIN_CHARS`, and only arrays of at least `LAZY_ARRAY_MIN_CHARS`. Anything the
 * scanner does not recognise falls back to a plain `JSON.parse` of the whole frame, so malformed
 * frames get exactly the errors they got before. Syntax errors inside a deferred array surface
 * when its batch is parsed, as a -32700 error naming the field and element.
 */
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { RpcError } from './errors.js';
import { ErrorCodes } from './protocol.js';

/** Frames shorter than this are parsed whole (scanning would not pay off). */
export const LAZY_FRAME_MIN_CHARS = 256 * 1024;
/** Arrays shorter than this stay in the frame and are parsed with it. */
export const LAZY_ARRAY_MIN_CHARS = 64 * 1024;
/** Elements per deferred batch (a power of two: `at(i)` finds the batch with a shift). */
export const LAZY_BATCH_SHIFT = 10;
const BATCH = 1 << LAZY_BATCH_SHIFT;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

const lazySchemas = new WeakSet<object>();

/** @internal Record a schema made by `lazyArray()` (clones by describe/meta share its def). */
export function markLazyArraySchema(schema: z.ZodType): void {
  lazySchemas.add(schema._zod.def);
}

/** Whether `schema` was made by `lazyArray()` (possibly `.describe()`d or `.meta()`'d). */
export function isLazyArraySchema(schema: z.ZodType): boolean {
  return lazySchemas.has(schema._zod.def);
}

/** Input fields of an object schema that are `lazyArray()`s. */
export function lazyFieldsOf(schema: z.ZodType): ReadonlySet<string> {
  const shape = (schema as { shape?: Record<string, z.ZodType> }).shape;
  const fields = new Set<string>();
  if (shape && typeof shape === 'object') {
    for (const [key, field] of Object.entries(shape)) if (isLazyArraySchema(field)) fields.add(key);
  }
  return fields;
}

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * The JSON text of one array of a frame, not parsed yet: the frame, the array's span and the
 * start of every batch of `2^LAZY_BATCH_SHIFT` elements.
 */
export class DeferredJsonArray {
  /**
   * @param bounds start offset of each batch, then the offset just past the closing `]`:
   *   batch k is `text.slice(bounds[k], bounds[k + 1] - 1)` (which drops its trailing `,` or `]`).
   */
  constructor(
    readonly field: string,
    readonly text: string,
    readonly bounds: readonly number[],
    readonly length: number,
  ) {}

  get batches(): number {
    return this.bounds.length - 1;
  }

  /** Parse batch `k`; a syntax error is a -32700 naming the field and the batch's elements. */
  parseBatch(k: number): unknown[] {
    const slice = this.text.slice(this.bounds[k], this.bounds[k + 1]! - 1);
    const first = k * BATCH;
    const expected = Math.min(BATCH, this.length - first);
    let items: unknown;
    try {
      items = JSON.parse(`[${slice}]`);
    } catch (err) {
      throw this.#syntaxError(first, expected, err);
    }
    if (!Array.isArray(items) || items.length !== expected) {
      throw this.#syntaxError(first, expected, undefined);
    }
    return items;
  }

  /** Every element, parsed now. */
  parseAll(): unknown[] {
    const out: unknown[] = new Array<unknown>(this.length);
    for (let k = 0; k < this.batches; k++) {
      const items = this.parseBatch(k);
      for (let j = 0; j < items.length; j++) out[k * BATCH + j] = items[j];
    }
    return out;
  }

  #syntaxError(first: number, count: number, cause: unknown): RpcError {
    const detail = cause instanceof SyntaxError ? ` (${cause.message})` : '';
    return new RpcError(
      ErrorCodes.PARSE_ERROR,
      `Parse error: input.${this.field}[${first}…${first + count - 1}] is not valid JSON${detail}`,
      { field: `input.${this.field}`, from: first, to: first + count - 1 },
    );
  }
}

/** Thrown inside the scanner when the text is not what it expects; the caller falls back. */
class Unrecognised extends Error {}

/**
 * A cursor over a frame that walks objects and skips values without building them. It checks
 * only what it needs to find its way (strings, brackets, separators): `JSON.parse` of the
 * skeleton validates everything outside the deferred arrays, and each batch validates itself.
 */
class Scanner {
  pos = 0;
  constructor(readonly text: string) {}

  space(): number {
    const text = this.text;
    let pos = this.pos;
    let c = text.charCodeAt(pos);
    while (isSpace(c)) c = text.charCodeAt(++pos);
    this.pos = pos;
    if (Number.isNaN(c)) throw new Unrecognised('end of text');
    return c;
  }

  expect(code: number): void {
    if (this.space() !== code) throw new Unrecognised(`expected ${String.fromCharCode(code)}`);
    this.pos++;
  }

  /** Offset just past the string that starts at `pos` (an opening quote). */
  static stringEnd(text: string, pos: number): number {
    for (;;) {
      const quote = text.indexOf('"', pos + 1);
      if (quote < 0) throw new Unrecognised('unterminated string');
      let backslashes = 0;
      while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
      if ((backslashes & 1) === 0) return quote + 1;
      pos = quote;
    }
  }

  /** The key at the cursor (decoded), leaving the cursor after its colon. */
  key(): string {
    if (this.space() !== QUOTE) throw new Unrecognised('expected a key');
    const start = this.pos;
    const end = Scanner.stringEnd(this.text, start);
    this.pos = end;
    this.expect(COLON);
    const raw = this.text.slice(start + 1, end - 1);
    return raw.includes('\\') ? (JSON.parse(this.text.slice(start, end)) as string) : raw;
  }

  /** Skip the value at the cursor. */
  skipValue(): void {
    const c = this.space();
    const text = this.text;
    if (c === QUOTE) {
      this.pos = Scanner.stringEnd(text, this.pos);
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      let depth = 0;
      let pos = this.pos;
      for (;;) {
        const d = text.charCodeAt(pos);
        if (d === QUOTE) {
          pos = Scanner.stringEnd(text, pos);
          continue;
        }
        if (d === OPEN_BRACE || d === OPEN_BRACKET) depth++;
        else if (d === CLOSE_BRACE || d === CLOSE_BRACKET) {
          if (--depth === 0) break;
        } else if (Number.isNaN(d)) throw new Unrecognised('unterminated container');
        pos++;
      }
      this.pos = pos + 1;
    } else {
      let pos = this.pos;
      let d = c;
      while (d !== COMMA && d !== CLOSE_BRACE && d !== CLOSE_BRACKET && !isSpace(d)) {
        if (Number.isNaN(d)) throw new Unrecognised('unterminated value');
        d = text.charCodeAt(++pos);
      }
      this.pos = pos;
    }
  }

  /**
   * Visit the members of the object at the cursor: `visit` returns true when it consumed the
   * value itself, false to have it skipped.
   */
  object(visit: (key: string) => boolean): void {
    this.expect(OPEN_BRACE);
    if (this.space() === CLOSE_BRACE) {
      this.pos++;
      return;
    }
    for (;;) {
      const key = this.key();
      if (!visit(key)) this.skipValue();
      const c = this.space();
      this.pos++;
      if (c === CLOSE_BRACE) return;
      if (c !== COMMA) throw new Unrecognised('expected , or }');
    }
  }

  /**
   * Scan the array at the cursor for its element boundaries. Returns the batch bounds (see
   * DeferredJsonArray) and the element count; the cursor ends after the `]`.
   */
  array(): { start: number; bounds: number[]; length: number } {
    if (this.space() !== OPEN_BRACKET) throw new Unrecognised('expected [');
    const text = this.text;
    const start = this.pos;
    this.pos++;
    if (this.space() === CLOSE_BRACKET) {
      this.pos++;
      return { start, bounds: [start + 1], length: 0 };
    }
    const bounds = [start + 1];
    let commas = 0;
    let depth = 0;
    let pos = start + 1;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === QUOTE) {
        pos = Scanner.stringEnd(text, pos);
        continue;
      }
      if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE) depth--;
      else if (c === CLOSE_BRACKET) {
        if (depth === 0) break;
        depth--;
      } else if (c === COMMA && depth === 0) {
        if (++commas % BATCH === 0) bounds.push(pos + 1);
      } else if (Number.isNaN(c)) throw new Unrecognised('unterminated array');
      pos++;
    }
    bounds.push(pos + 1);
    this.pos = pos + 1;
    return { start, bounds, length: commas + 1 };
  }
}

interface Span {
  field: string;
  start: number;
  end: number;
  bounds: number[];
  length: number;
}

/** Find the large lazy arrays of `params.input`; undefined when there are none or on surprises. */
function findSpans(text: string, fields: ReadonlySet<string>): Span[] | undefined {
  const scanner = new Scanner(text);
  const spans: Span[] = [];
  const seen = new Set<string>();
  try {
    scanner.object((key) => {
      if (key !== 'params' || scanner.space() !== OPEN_BRACE) return false;
      scanner.object((param) => {
        if (param !== 'input' || scanner.space() !== OPEN_BRACE) return false;
        scanner.object((field) => {
          if (seen.has(field)) throw new Unrecognised('duplicate key');
          seen.add(field);
          if (!fields.has(field) || scanner.space() !== OPEN_BRACKET) return false;
          const { start, bounds, length } = scanner.array();
          if (scanner.pos - start >= LAZY_ARRAY_MIN_CHARS) {
            spans.push({ field, start, end: scanner.pos, bounds, length });
          }
          return true;
        });
        return true;
      });
      return true;
    });
    // Only whitespace may follow (an HTTP body often ends with a newline).
    for (let pos = scanner.pos; pos < text.length; pos++) {
      if (!isSpace(text.charCodeAt(pos))) return undefined;
    }
  } catch (err) {
    if (err instanceof Unrecognised) return undefined;
    throw err;
  }
  return spans.length > 0 ? spans : undefined;
}

const SENTINEL = `\u0000stepflow-lazy-${randomBytes(12).toString('hex')}-`;

/**
 * Parse one JSON-RPC frame, deferring the large arrays of `params.input` whose field is in
 * `fields`. Throws like `JSON.parse` for invalid frames.
 */
export function parseFrame(text: string, fields: ReadonlySet<string>): unknown {
  if (fields.size === 0 || text.length < LAZY_FRAME_MIN_CHARS) return JSON.parse(text);
  // A native search rules out most large frames of other components without scanning them.
  if (![...fields].some((field) => text.includes(`"${field}"`))) return JSON.parse(text);
  const spans = findSpans(text, fields);
  if (!spans) return JSON.parse(text);
  let skeleton = '';
  let from = 0;
  spans.forEach((span, i) => {
    skeleton += `${text.slice(from, span.start)}${JSON.stringify(SENTINEL + i)}`;
    from = span.end;
  });
  skeleton += text.slice(from);
  let frame: unknown;
  try {
    frame = JSON.parse(skeleton);
  } catch {
    return JSON.parse(text);
  }
  const input = (frame as { params?: { input?: Record<string, unknown> } }).params?.input;
  if (!input || spans.some((span, i) => input[span.field] !== SENTINEL + i)) {
    return JSON.parse(text);
  }
  for (const span of spans) {
    input[span.field] = new DeferredJsonArray(span.field, text, span.bounds, span.length);
  }
  return frame;
}
