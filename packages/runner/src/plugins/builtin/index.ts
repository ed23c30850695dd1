import { ErrorCodes } from '@stepflow-packs/core';
import type { StepResult } from '../../execute/result.js';
import type { Version } from '../../flow/model.js';
import type { Json } from '../../json/value.js';
import { StepCallError, type CallContext, type ListedComponent, type Plugin } from '../types.js';
import { noop, sleep } from './bench.js';
import { createMessages } from './create-messages.js';
import { evalFlow } from './eval.js';
import { getBlob } from './get-blob.js';
import { iterate } from './iterate.js';
import { loadFile } from './load-file.js';
import { map } from './map.js';
import { putBlob } from './put-blob.js';
import { objectInput, type Builtin, type BuiltinHost } from './types.js';

const BUILTINS: Builtin[] = [
  putBlob,
  getBlob,
  evalFlow,
  map,
  iterate,
  loadFile,
  createMessages,
  noop,
  sleep,
];

/** Component names (`/put_blob`, …) the builtin plugin offers under a release. */
export function builtinComponents(version: Version): string[] {
  return BUILTINS.filter((b) => !b.since || version === b.since).map((b) => `/${b.name}`);
}

/**
 * The `builtin` plugin (0.13 adds `/noop` and `/sleep`).
 * `/openai` is not provided (network).
 */
export class BuiltinPlugin implements Plugin {
  readonly type = 'builtin';
  readonly #builtins: Builtin[];
  readonly #byName: Map<string, Builtin>;

  constructor(private readonly host: BuiltinHost) {
    this.#builtins = BUILTINS.filter((b) => !b.since || host.version === b.since);
    this.#byName = new Map(this.#builtins.map((b) => [b.name, b]));
  }

  async start(): Promise<void> {}

  async execute(component: string, input: Json, ctx: CallContext): Promise<StepResult> {
    const name = component.replace(/^\//, '');
    const builtin = this.#byName.get(name);
    if (!builtin) {
      throw new StepCallError(
        'infrastructure',
        ErrorCodes.TRANSPORT_ERROR,
        `Builtin component ${component} not found`,
      );
    }
    return builtin.execute(objectInput(name, input), this.host, ctx, input);
  }

  async list(): Promise<ListedComponent[]> {
    return this.#builtins.map((b) => ({ component: `/${b.name}`, description: b.description }));
  }

  async close(): Promise<void> {}
}
