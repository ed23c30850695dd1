import type { Path } from '../json/path.js';
import type { Json, JsonObject } from '../json/value.js';

/** The Stepflow release whose semantics are reproduced. */
export type Version = 'v0.8' | 'v0.11' | 'v0.13';

/** The expression syntax of a flow document: `$from` (v0.8) or `$step`/`$input` (v0.11, 0.13). */
export type Syntax = 'v0.8' | 'v0.11';

/** v0.8 `onSkip` of a reference. */
export type OnSkip =
  { action: 'skip' } | { action: 'useDefault'; defaultValue: Json; float: boolean };

/**
 * One expression model for both syntaxes: v0.8 `$from` references and v0.11 `$step`/`$input`/
 * `$variable`/`$if`/`$coalesce` parse into the same nodes.
 */
export type Expr =
  | { kind: 'literal'; value: Json; float: boolean }
  | { kind: 'object'; entries: [string, Expr][] }
  | { kind: 'array'; items: Expr[] }
  | { kind: 'input'; path: Path; pathText: string; onSkip?: OnSkip }
  | { kind: 'step'; step: string; path: Path; pathText: string; onSkip?: OnSkip }
  | {
      kind: 'variable';
      name: string;
      path: Path;
      pathText: string;
      /** v0.8: a literal default on the reference; v0.11: an expression used when missing. */
      fallback?: { legacy: true; value: Json } | { legacy: false; expr: Expr };
      onSkip?: OnSkip;
    }
  | { kind: 'if'; condition: Expr; then: Expr; else?: Expr }
  | { kind: 'coalesce'; items: Expr[] };

export type ErrorAction =
  | { action: 'fail' }
  | { action: 'skip' }
  | { action: 'useDefault'; defaultValue?: Expr }
  | { action: 'retry'; maxRetries: number };

export interface Step {
  id: string;
  component: string;
  input: Expr;
  /** v0.8 only. */
  skipIf?: Expr;
  onError: ErrorAction;
  mustExecute: boolean;
  metadata: JsonObject;
  /** Position in the step list. */
  index: number;
}

export interface Flow {
  version: Version;
  file: string | undefined;
  name: string | undefined;
  description: string | undefined;
  steps: Step[];
  stepsById: Map<string, Step>;
  output: Expr;
  /** Variable schema (`variables` in v0.8, `schemas.properties.variables` in v0.11). */
  variables: JsonObject | undefined;
  metadata: JsonObject;
  /** The document as parsed (used for `test:`, examples, blobs of flows). */
  raw: JsonObject;
}
