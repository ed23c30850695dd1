import { parsePath, PathSyntaxError, type Path } from '../json/path.js';
import {
  isFloatMember,
  isObject,
  keysOf,
  typeName,
  type Json,
  type JsonObject,
} from '../json/value.js';
import { didYouMean } from '../text/suggest.js';
import type { DocPath, Locator } from './locate.js';
import type { ErrorAction, Expr, Flow, OnSkip, Step, Syntax, Version } from './model.js';

export const FLOW_SCHEMA_URL = 'https://stepflow.org/schemas/v1/flow.json';

/** A flow that cannot run; every problem names the file, step and field. */
export class FlowParseError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(
      problems.length === 1
        ? problems[0]!
        : `${file}: ${problems.length} problems:\n  ${problems.join('\n  ')}`,
    );
    this.name = 'FlowParseError';
  }
}

const V011_KEYS = new Set(['$step', '$input', '$variable', '$if', '$coalesce']);

/**
 * Infer the emulated release from the syntax: `$from` ⇒ v0.8;
 * `$step`/`$input`/`$variable`/`$if`/`$coalesce` ⇒ v0.11. Without references, v0.8-only keys
 * (`inputSchema`, `outputSchema`, `variables`, `skipIf`, `onError: skip`) ⇒ v0.8; otherwise v0.11.
 */
export function inferVersion(doc: JsonObject): Syntax {
  let legacy = 0;
  let modern = 0;
  const visit = (value: Json, depth: number): void => {
    if (depth > 200) return;
    if (Array.isArray(value)) return value.forEach((v) => visit(v, depth + 1));
    if (!isObject(value)) return;
    for (const key of Object.keys(value)) {
      if (key === '$from') legacy++;
      else if (V011_KEYS.has(key)) modern++;
      visit(value[key]!, depth + 1);
    }
  };
  for (const [key, value] of Object.entries(doc))
    if (key !== 'test' && key !== 'examples') visit(value, 0);
  if (legacy !== modern) return legacy > modern ? 'v0.8' : 'v0.11';
  if (['inputSchema', 'outputSchema', 'variables'].some((k) => k in doc)) return 'v0.8';
  const steps = Array.isArray(doc.steps) ? doc.steps : [];
  if (
    steps.some(
      (s) => isObject(s) && ('skipIf' in s || (isObject(s.onError) && s.onError.action === 'skip')),
    )
  )
    return 'v0.8';
  return 'v0.11';
}

interface Context {
  /** Semantics being emulated. */
  version: Version;
  /** Expression syntax of this document (`$from` = v0.8, `$step`/`$input` = v0.11). */
  syntax: Syntax;
  file: string;
  problems: string[];
  warnings: string[];
  /** Where the part being parsed is in the document (for `file:line:column`). */
  loc: (string | number)[];
  locate: Locator | undefined;
  /** Source position of each step reference (for reference problems). */
  refs: WeakMap<Expr, DocPath>;
}

/**
 * Record a problem; with a locator, its leading `file:` gains the line and column of `at` (by
 * default the part being parsed).
 */
function problem(ctx: Context, text: string, at: DocPath = ctx.loc): void {
  const prefix = `${ctx.file}: `;
  if (ctx.locate && text.startsWith(prefix))
    ctx.problems.push(`${ctx.locate(at)}: ${text.slice(prefix.length)}`);
  else ctx.problems.push(text);
}

/** Parse with `key` appended to the document path. */
function within<T>(ctx: Context, key: string | number, parse: () => T): T {
  ctx.loc.push(key);
  try {
    return parse();
  } finally {
    ctx.loc.pop();
  }
}

const STEP_KEYS = new Set([
  'id',
  'component',
  'input',
  'inputSchema',
  'outputSchema',
  'skipIf',
  'onError',
  'mustExecute',
  'metadata',
]);
const STEP_SNAKE: Record<string, string> = {
  input_schema: 'inputSchema',
  output_schema: 'outputSchema',
  skip_if: 'skipIf',
  on_error: 'onError',
  must_execute: 'mustExecute',
};
const FLOW_SNAKE: Record<string, string> = {
  input_schema: 'inputSchema',
  output_schema: 'outputSchema',
};

/**
 * Parse a flow document of the given release. Problems are collected and thrown together;
 * keys the real runtime ignores silently produce warnings instead.
 */
export function parseFlow(
  doc: Json,
  options: {
    version: Version;
    syntax?: Syntax;
    file?: string;
    /** Source positions (YAML node ranges): problems then read `file:line:column: …`. */
    locate?: Locator;
  },
): { flow: Flow; warnings: string[] } {
  const file = options.file ?? '<flow>';
  if (!isObject(doc))
    throw new FlowParseError(file, [`${file}: a flow must be a mapping, got ${typeName(doc)}`]);
  const syntax = options.syntax ?? inferVersion(doc);
  const ctx: Context = {
    version: options.version,
    syntax,
    file,
    problems: [],
    warnings: [],
    loc: [],
    locate: options.locate,
    refs: new WeakMap(),
  };
  if (syntax !== (ctx.version === 'v0.13' ? 'v0.11' : ctx.version)) {
    ctx.warnings.push(
      `${file}: written in ${syntax} syntax, run with ${ctx.version} semantics (--emulate)`,
    );
  }

  if (ctx.version === 'v0.8' && doc.schema !== FLOW_SCHEMA_URL) {
    problem(ctx, `${file}: schema: v0.8 flows must declare "schema: ${FLOW_SCHEMA_URL}"`);
  }
  for (const [snake, camel] of Object.entries(FLOW_SNAKE)) {
    if (snake in doc) {
      const target =
        ctx.syntax === 'v0.8'
          ? camel
          : `schemas.properties.${camel === 'inputSchema' ? 'input' : 'output'}`;
      ctx.warnings.push(`${file}: "${snake}" is ignored by Stepflow (did you mean "${target}"?)`);
    }
  }
  let variables: JsonObject | undefined;
  if (ctx.syntax === 'v0.8') {
    if (isObject(doc.variables)) variables = doc.variables;
    if ('schemas' in doc)
      ctx.warnings.push(`${file}: "schemas" is a v0.11 key and is ignored in v0.8 mode`);
  } else {
    for (const key of ['inputSchema', 'outputSchema', 'variables']) {
      if (key in doc)
        ctx.warnings.push(
          `${file}: "${key}" is ignored by v0.11 (use schemas.properties.${key === 'inputSchema' ? 'input' : key === 'outputSchema' ? 'output' : 'variables'})`,
        );
    }
    const schemas = doc.schemas;
    if (schemas !== undefined && schemas !== null) {
      if (!isObject(schemas)) problem(ctx, `${file}: schemas: expected a mapping`);
      else if (
        !('properties' in schemas) &&
        ['input', 'output', 'variables', 'steps'].some((k) => k in schemas)
      ) {
        problem(
          ctx,
          `${file}: schemas: the flat form {input: ...} is not accepted; write schemas: {type: object, properties: {input: ...}}`,
        );
      } else if (isObject(schemas.properties) && isObject(schemas.properties.variables)) {
        variables = schemas.properties.variables;
      }
    }
  }

  const steps: Step[] = [];
  const stepsById = new Map<string, Step>();
  const rawSteps = doc.steps ?? [];
  if (!Array.isArray(rawSteps))
    problem(ctx, `${file}: steps: expected a list, got ${typeName(rawSteps)}`);
  else {
    rawSteps.forEach((raw, index) => {
      const step = within(ctx, 'steps', () => within(ctx, index, () => parseStep(raw, index, ctx)));
      if (!step) return;
      if (stepsById.has(step.id))
        problem(ctx, `${file}: steps[${index}]: duplicate step id "${step.id}"`, [
          'steps',
          index,
          'id',
        ]);
      else stepsById.set(step.id, step);
      steps.push(step);
    });
  }
  const output = within(ctx, 'output', () =>
    parseExpr(doc.output ?? null, false, ctx, `${file}: output`),
  );
  const flow: Flow = {
    version: ctx.version,
    file: options.file,
    name: typeof doc.name === 'string' ? doc.name : undefined,
    description: typeof doc.description === 'string' ? doc.description : undefined,
    steps,
    stepsById,
    output,
    variables,
    metadata: isObject(doc.metadata) ? doc.metadata : {},
    raw: doc,
  };
  validateReferences(flow, ctx, stepsOfDoc(rawSteps));
  if (ctx.problems.length > 0) throw new FlowParseError(file, ctx.problems);
  return { flow, warnings: ctx.warnings };
}

function parseStep(raw: Json, index: number, ctx: Context): Step | undefined {
  const at = `${ctx.file}: steps[${index}]`;
  if (!isObject(raw)) {
    problem(ctx, `${at}: expected a mapping, got ${typeName(raw)}`);
    return undefined;
  }
  const id = raw.id;
  if (typeof id !== 'string' || id === '') {
    problem(ctx, `${at}.id: a non-empty string is required`);
    return undefined;
  }
  const where = `${ctx.file}: step "${id}"`;
  if (typeof raw.component !== 'string' || raw.component === '') {
    within(ctx, 'component', () =>
      problem(ctx, `${where}: component: a string such as "/math/add" is required`),
    );
  }
  for (const key of Object.keys(raw)) {
    if (STEP_KEYS.has(key)) continue;
    const camel = STEP_SNAKE[key];
    ctx.warnings.push(
      camel
        ? `${where}: "${key}" is silently ignored by Stepflow; did you mean "${camel}"?`
        : `${where}: unknown key "${key}" is ignored`,
    );
  }
  let skipIf: Expr | undefined;
  if (raw.skipIf !== undefined) {
    if (ctx.version === 'v0.8')
      skipIf = within(ctx, 'skipIf', () =>
        parseExpr(raw.skipIf!, isFloatMember(raw, 'skipIf'), ctx, `${where}: skipIf`),
      );
    else
      ctx.warnings.push(
        `${where}: "skipIf" is ignored by v0.11 (no skipping); move the condition into $if at the consumers`,
      );
  }
  if (raw.mustExecute !== undefined && typeof raw.mustExecute !== 'boolean') {
    problem(ctx, `${where}: mustExecute: expected true or false`);
  }
  return {
    id,
    component: typeof raw.component === 'string' ? raw.component : '',
    input: within(ctx, 'input', () =>
      parseExpr(raw.input ?? null, isFloatMember(raw, 'input'), ctx, `${where}: input`),
    ),
    ...(skipIf ? { skipIf } : {}),
    onError: within(ctx, 'onError', () => parseErrorAction(raw.onError, ctx, `${where}: onError`)),
    mustExecute: raw.mustExecute === true,
    metadata: isObject(raw.metadata) ? raw.metadata : {},
    index,
  };
}

function parseErrorAction(raw: Json | undefined, ctx: Context, at: string): ErrorAction {
  if (raw === undefined || raw === null) return { action: 'fail' };
  if (!isObject(raw) || typeof raw.action !== 'string') {
    problem(
      ctx,
      `${at}: expected {action: fail|${ctx.version === 'v0.8' ? 'skip|' : ''}useDefault|retry}`,
    );
    return { action: 'fail' };
  }
  switch (raw.action) {
    case 'fail':
      return { action: 'fail' };
    case 'skip':
      if (ctx.version !== 'v0.8') {
        problem(
          ctx,
          `${at}.action: "skip" does not exist in v0.11 (use useDefault, or $if/$coalesce at the consumers)`,
        );
      }
      return { action: 'skip' };
    case 'useDefault': {
      if (!('defaultValue' in raw)) return { action: 'useDefault' };
      // v0.8 accepts a template (may contain $from); v0.11 only literal JSON.
      const defaultValue =
        ctx.version === 'v0.8'
          ? parseExpr(
              raw.defaultValue!,
              isFloatMember(raw, 'defaultValue'),
              ctx,
              `${at}.defaultValue`,
            )
          : ({
              kind: 'literal',
              value: raw.defaultValue!,
              float: isFloatMember(raw, 'defaultValue'),
            } as const);
      return { action: 'useDefault', defaultValue };
    }
    case 'retry': {
      const maxRetries = raw.maxRetries ?? 3;
      if (typeof maxRetries !== 'number' || !Number.isInteger(maxRetries) || maxRetries < 0) {
        problem(ctx, `${at}.maxRetries: expected a non-negative integer`);
        return { action: 'retry', maxRetries: 3 };
      }
      if (ctx.version === 'v0.8')
        ctx.warnings.push(`${at}: "retry" is not implemented by v0.8 and behaves like "fail"`);
      return { action: 'retry', maxRetries };
    }
    default:
      problem(ctx, `${at}.action: unknown action ${JSON.stringify(raw.action)}`);
      return { action: 'fail' };
  }
}

function path(text: Json | undefined, ctx: Context, at: string): { path: Path; pathText: string } {
  if (text === undefined || text === null) return { path: [], pathText: '$' };
  if (typeof text !== 'string') {
    problem(ctx, `${at}: expected a path string, got ${typeName(text)}`);
    return { path: [], pathText: '$' };
  }
  try {
    return { path: parsePath(text), pathText: text };
  } catch (err) {
    problem(ctx, `${at}: ${err instanceof PathSyntaxError ? err.message : String(err)}`);
    return { path: [], pathText: text };
  }
}

/** Parse a template / expression in the context's syntax. */
export function parseExpr(value: Json, float: boolean, ctx: Context, at: string): Expr {
  if (Array.isArray(value)) {
    return {
      kind: 'array',
      items: value.map((item, i) =>
        within(ctx, i, () => parseExpr(item, isFloatMember(value, i), ctx, `${at}[${i}]`)),
      ),
    };
  }
  if (!isObject(value)) return { kind: 'literal', value, float };
  const special = ctx.syntax === 'v0.8' ? parseLegacy(value, ctx, at) : parseModern(value, ctx, at);
  if (special) return special;
  const foreign = ctx.syntax === 'v0.11' ? ['$from'] : [...V011_KEYS].filter((k) => k in value);
  if (foreign.some((k) => k in value)) {
    ctx.warnings.push(
      `${at}: "${foreign.find((k) => k in value)}" belongs to the other syntax; in a ${ctx.syntax}-syntax flow this object is a literal`,
    );
  }
  return {
    kind: 'object',
    entries: keysOf(value).map((key) => [
      key,
      within(ctx, key, () =>
        parseExpr(value[key]!, isFloatMember(value, key), ctx, `${at}.${key}`),
      ),
    ]),
  };
}

function parseOnSkip(raw: Json | undefined, ctx: Context, at: string): OnSkip | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) {
    problem(ctx, `${at}: expected {action: skip|useDefault}`);
    return undefined;
  }
  if (raw.action === 'skip') return { action: 'skip' };
  if (raw.action === 'useDefault')
    return {
      action: 'useDefault',
      defaultValue: raw.defaultValue ?? null,
      float: isFloatMember(raw, 'defaultValue'),
    };
  problem(
    ctx,
    `${at}.action: expected skip or useDefault, got ${JSON.stringify(raw.action ?? null)}`,
  );
  return undefined;
}

function parseLegacy(value: JsonObject, ctx: Context, at: string): Expr | undefined {
  if ('$from' in value) {
    const from = value.$from;
    const { path: p, pathText } = path(value.path, ctx, `${at}.path`);
    const onSkip = parseOnSkip(value.onSkip, ctx, `${at}.onSkip`);
    const extra = onSkip ? { onSkip } : {};
    if (!isObject(from)) {
      problem(
        ctx,
        `${at}.$from: expected {step: <id>}, {workflow: input} or {variable: <name>}, got ${typeName(from!)}`,
      );
      return { kind: 'literal', value: null, float: false };
    }
    if ('step' in from) {
      if (typeof from.step !== 'string')
        problem(ctx, `${at}.$from.step: expected a step id string`);
      const ref: Expr = { kind: 'step', step: String(from.step), path: p, pathText, ...extra };
      ctx.refs.set(ref, [...ctx.loc, '$from', 'step']);
      return ref;
    }
    if ('workflow' in from) {
      if (from.workflow !== 'input') problem(ctx, `${at}.$from.workflow: only "input" is accepted`);
      return { kind: 'input', path: p, pathText, ...extra };
    }
    if ('variable' in from) {
      if (typeof from.variable !== 'string')
        problem(ctx, `${at}.$from.variable: expected a variable name`);
      const fallback =
        'default' in from ? { fallback: { legacy: true as const, value: from.default! } } : {};
      return {
        kind: 'variable',
        name: String(from.variable),
        path: p,
        pathText,
        ...fallback,
        ...extra,
      };
    }
    problem(ctx, `${at}.$from: expected {step: <id>}, {workflow: input} or {variable: <name>}`);
    return { kind: 'literal', value: null, float: false };
  }
  if ('$literal' in value)
    return { kind: 'literal', value: value.$literal!, float: isFloatMember(value, '$literal') };
  return undefined;
}

function parseModern(value: JsonObject, ctx: Context, at: string): Expr | undefined {
  if ('$literal' in value)
    return { kind: 'literal', value: value.$literal!, float: isFloatMember(value, '$literal') };
  if ('$if' in value) {
    if (!('then' in value)) problem(ctx, `${at}: $if needs a "then" branch`);
    const expr: Expr = {
      kind: 'if',
      condition: parseExpr(value.$if!, isFloatMember(value, '$if'), ctx, `${at}.$if`),
      then: parseExpr(value.then ?? null, isFloatMember(value, 'then'), ctx, `${at}.then`),
    };
    if ('else' in value)
      expr.else = parseExpr(value.else!, isFloatMember(value, 'else'), ctx, `${at}.else`);
    return expr;
  }
  if ('$coalesce' in value) {
    const items = value.$coalesce;
    if (!Array.isArray(items)) {
      problem(ctx, `${at}.$coalesce: expected a list of expressions`);
      return { kind: 'coalesce', items: [] };
    }
    return {
      kind: 'coalesce',
      items: items.map((item, i) =>
        parseExpr(item, isFloatMember(items, i), ctx, `${at}.$coalesce[${i}]`),
      ),
    };
  }
  if ('$step' in value) {
    if (typeof value.$step !== 'string')
      problem(ctx, `${at}.$step: expected a step id string, got ${typeName(value.$step!)}`);
    const ref: Expr = {
      kind: 'step',
      step: String(value.$step),
      ...path(value.path, ctx, `${at}.path`),
    };
    ctx.refs.set(ref, [...ctx.loc, '$step']);
    return ref;
  }
  if ('$input' in value) return { kind: 'input', ...path(value.$input, ctx, `${at}.$input`) };
  if ('$variable' in value) {
    const text = value.$variable;
    if (typeof text !== 'string' || text === '' || text === '$') {
      problem(ctx, `${at}.$variable: expected a variable name or a path such as "$.name.field"`);
      return { kind: 'literal', value: null, float: false };
    }
    const parsed = path(text, ctx, `${at}.$variable`);
    const [first, ...rest] = parsed.path;
    if (!first || !('field' in first)) {
      problem(ctx, `${at}.$variable: the first path segment must be the variable name`);
      return { kind: 'literal', value: null, float: false };
    }
    const expr: Expr = {
      kind: 'variable',
      name: first.field,
      path: rest,
      pathText: parsed.pathText,
    };
    if ('default' in value)
      expr.fallback = {
        legacy: false,
        expr: parseExpr(value.default!, isFloatMember(value, 'default'), ctx, `${at}.default`),
      };
    return expr;
  }
  return undefined;
}

/** Every step referenced by an expression (all branches). */
export function referencedSteps(expr: Expr, out: Set<string> = new Set()): Set<string> {
  switch (expr.kind) {
    case 'step':
      out.add(expr.step);
      break;
    case 'object':
      for (const [, e] of expr.entries) referencedSteps(e, out);
      break;
    case 'array':
      for (const e of expr.items) referencedSteps(e, out);
      break;
    case 'if':
      referencedSteps(expr.condition, out);
      referencedSteps(expr.then, out);
      if (expr.else) referencedSteps(expr.else, out);
      break;
    case 'coalesce':
      for (const e of expr.items) referencedSteps(e, out);
      break;
    case 'variable':
      if (expr.fallback && !expr.fallback.legacy) referencedSteps(expr.fallback.expr, out);
      break;
    default:
  }
  return out;
}

/** Expressions of a step that may reference other steps. */
export function stepExpressions(step: Step): Expr[] {
  const exprs = [step.input];
  if (step.skipIf) exprs.push(step.skipIf);
  if (step.onError.action === 'useDefault' && step.onError.defaultValue)
    exprs.push(step.onError.defaultValue);
  return exprs;
}

/** Step references of an expression (all branches), with their expression objects. */
function stepRefs(expr: Expr, out: Extract<Expr, { kind: 'step' }>[] = []) {
  switch (expr.kind) {
    case 'step':
      out.push(expr);
      break;
    case 'object':
      for (const [, e] of expr.entries) stepRefs(e, out);
      break;
    case 'array':
      for (const e of expr.items) stepRefs(e, out);
      break;
    case 'if':
      stepRefs(expr.condition, out);
      stepRefs(expr.then, out);
      if (expr.else) stepRefs(expr.else, out);
      break;
    case 'coalesce':
      for (const e of expr.items) stepRefs(e, out);
      break;
    case 'variable':
      if (expr.fallback && !expr.fallback.legacy) stepRefs(expr.fallback.expr, out);
      break;
    default:
  }
  return out;
}

/** Step ids as written (for suggestions), including steps that failed to parse. */
function stepsOfDoc(rawSteps: Json): string[] {
  if (!Array.isArray(rawSteps)) return [];
  return rawSteps.flatMap((s) => (isObject(s) && typeof s.id === 'string' ? [s.id] : []));
}

function validateReferences(flow: Flow, ctx: Context, ids: string[]): void {
  for (const step of flow.steps) {
    const before = ids.slice(0, step.index);
    for (const expr of stepExpressions(step)) {
      for (const ref of stepRefs(expr)) {
        const at = ctx.refs.get(ref) ?? ['steps', step.index];
        const target = flow.stepsById.get(ref.step);
        if (ref.step === step.id)
          problem(ctx, `${ctx.file}: step "${step.id}" references itself`, at);
        else if (!target)
          problem(
            ctx,
            `${ctx.file}: step "${step.id}" references unknown step "${ref.step}"${didYouMean(ref.step, before)}`,
            at,
          );
        else if (target.index > step.index) {
          problem(
            ctx,
            `${ctx.file}: step "${step.id}" references step "${ref.step}", which is defined later (references must point to earlier steps)`,
            at,
          );
        }
      }
    }
  }
  for (const ref of stepRefs(flow.output)) {
    if (!flow.stepsById.has(ref.step))
      problem(
        ctx,
        `${ctx.file}: output references unknown step "${ref.step}"${didYouMean(ref.step, ids)}`,
        ctx.refs.get(ref) ?? ['output'],
      );
  }
}
