import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
} from 'yaml';
import { canonicalJson } from './canonical.js';
import { ArrayBuilder, ObjectBuilder, type Json } from './value.js';

/**
 * A mapping key that is itself a mapping or sequence (YAML complex key, used by mock
 * behaviours) is kept as this prefix + its compact JSON; see `decodeComplexKey`.
 */
export const COMPLEX_KEY_PREFIX = '\u0000yaml-key:';

/** The value of a complex key, or the key string itself. */
export function decodeComplexKey(key: string): Json {
  return key.startsWith(COMPLEX_KEY_PREFIX)
    ? (JSON.parse(key.slice(COMPLEX_KEY_PREFIX.length)) as Json)
    : key;
}

/** A YAML/JSON source that could not be read; `where` is `file:line:column` when known. */
export class SourceError extends Error {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
    this.name = 'SourceError';
  }
}

const FLOAT_SOURCE = /[.eE]/;

/**
 * Parse YAML 1.2 (core schema) or JSON text the way the Rust runtime sees it: only true/false
 * are booleans, timestamps stay strings, key order is kept and integral floats (`1.0`) are
 * remembered so that blob ids come out identical (the Rust runtime hashes the source text of
 * numbers).
 */
export function parseYaml(text: string, file = '<input>'): Json {
  return toJson(parseYamlDocument(text, file), file);
}

const lineCounters = new WeakMap<Document.Parsed, LineCounter>();

export function parseYamlDocument(text: string, file = '<input>'): Document.Parsed {
  let lineCounter = new LineCounter();
  let doc = parseDocument(text, {
    version: '1.2',
    schema: 'core',
    prettyErrors: false,
    uniqueKeys: true,
    lineCounter,
  });
  if (
    doc.errors.some(
      (e) => e.code === 'IMPOSSIBLE' && e.message.startsWith('Map comment with trailing content'),
    )
  ) {
    // The yaml package rejects a flow-collection implicit key (`{ input: "a" }:`) that is not the
    // first key of a nested block map; the explicit-key form `? {…}` / `:` means the same.
    lineCounter = new LineCounter();
    doc = parseDocument(explicitFlowKeys(text), {
      version: '1.2',
      schema: 'core',
      prettyErrors: false,
      uniqueKeys: true,
      lineCounter,
    });
  }
  lineCounters.set(doc, lineCounter);
  const error = doc.errors[0];
  if (error) {
    const pos = error.linePos?.[0] ?? lineCounter.linePos(error.pos[0]);
    throw new SourceError(
      pos ? `${file}:${pos.line}:${pos.col}` : file,
      error.message.split('\n')[0] ?? error.message,
    );
  }
  return doc;
}

/** Convert a parsed document (or one of its nodes) into the runner's JSON model. */
export function toJson(doc: Document.Parsed, file: string, node: unknown = doc.contents): Json {
  return convert(node, doc, file, 0).value;
}

/** `file:line:column` of a node. */
export function where(doc: Document.Parsed, file: string, node: Node): string {
  const offset = node.range?.[0];
  const pos = offset === undefined ? undefined : lineCounters.get(doc)?.linePos(offset);
  return pos ? `${file}:${pos.line}:${pos.col}` : file;
}

function convert(
  node: unknown,
  doc: Document.Parsed,
  file: string,
  depth: number,
): { value: Json; float: boolean } {
  if (depth > 1000) throw new SourceError(file, 'document is nested too deeply');
  if (node === null || node === undefined) return { value: null, float: false };
  if (isAlias(node)) return convert(node.resolve(doc), doc, file, depth + 1);
  if (isScalar(node)) {
    const value = node.value;
    if (value === null || value === undefined) return { value: null, float: false };
    if (typeof value === 'number') {
      const float =
        Number.isInteger(value) &&
        typeof node.source === 'string' &&
        FLOAT_SOURCE.test(node.source) &&
        !/^[-+]?0x/i.test(node.source);
      return { value: Number.isFinite(value) ? value : null, float };
    }
    if (typeof value === 'boolean' || typeof value === 'string') return { value, float: false };
    if (typeof value === 'bigint') return { value: Number(value), float: false };
    return { value: String(value), float: false };
  }
  if (isSeq(node)) {
    const builder = new ArrayBuilder();
    for (const item of node.items) {
      const converted = convert(item, doc, file, depth + 1);
      builder.push(converted.value, converted.float);
    }
    return { value: builder.build(), float: false };
  }
  if (isMap(node)) {
    const builder = new ObjectBuilder();
    for (const pair of node.items) {
      let key = pair.key;
      if (isAlias(key)) key = key.resolve(doc);
      let keyText: string;
      if (key === null) keyText = 'null';
      else if (isScalar(key)) keyText = scalarKey(key.value, key.source);
      else keyText = COMPLEX_KEY_PREFIX + canonicalJson(convert(key, doc, file, depth + 1).value);
      const converted = convert(pair.value, doc, file, depth + 1);
      builder.set(keyText, converted.value, converted.float);
    }
    return { value: builder.build(), float: false };
  }
  throw new SourceError(file, 'unsupported YAML node');
}

function scalarKey(value: unknown, source: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof source === 'string') return source;
  return String(value);
}

/** Rewrite lines `<indent>{…}: rest` / `<indent>[…]: rest` into `? {…}` + `: rest`. */
export function explicitFlowKeys(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const indent = /^[ ]*/.exec(line)![0];
      const start = line[indent.length];
      if (start !== '{' && start !== '[') return line;
      let depth = 0;
      let quote: string | undefined;
      for (let i = indent.length; i < line.length; i++) {
        const ch = line[i]!;
        if (quote) {
          if (ch === '\\' && quote === '"') i++;
          else if (ch === quote) quote = undefined;
          continue;
        }
        if (ch === '"' || ch === "'") quote = ch;
        else if (ch === '{' || ch === '[') depth++;
        else if (ch === '}' || ch === ']') {
          depth--;
          if (depth === 0) {
            const after = line.slice(i + 1);
            const m = /^\s*:(\s.*|)$/.exec(after);
            if (!m) return line;
            return `${indent}? ${line.slice(indent.length, i + 1)}\n${indent}:${m[1]}`;
          }
        }
      }
      return line;
    })
    .join('\n');
}
