import { ErrorCodes } from '@stepflow-packs/core';
import type { RunnerBlobStore } from '../../blobs/store.js';
import type { StepResult } from '../../execute/result.js';
import type { Version } from '../../flow/model.js';
import { isObject, typeName, type Json, type JsonObject } from '../../json/value.js';
import { StepCallError, type CallContext } from '../types.js';

/** What builtins need from the environment. */
export interface BuiltinHost {
  readonly version: Version;
  readonly blobStore: RunnerBlobStore;
  readonly workingDirectory: string;
  /** Parse and run a flow document of the emulated version (nested runs share this environment). */
  runFlow(
    flow: Json,
    input: Json,
    inputFloat?: boolean,
  ): Promise<{ result: StepResult; runId: string }>;
  /** Check that a document is a flow of the emulated version; throws with the problems. */
  checkFlow(flow: Json): void;
}

export interface Builtin {
  name: string;
  description: string;
  /** The first release that has it (default: every release). */
  since?: 'v0.13';
  execute(input: JsonObject, host: BuiltinHost, ctx: CallContext, raw: Json): Promise<StepResult>;
}

/** The builtin could not run (bad input and the like): an infrastructure error. */
export function builtinError(component: string, message: string): StepCallError {
  return new StepCallError(
    'infrastructure',
    ErrorCodes.TRANSPORT_ERROR,
    `${component}: ${message}`,
  );
}

/** Builtin inputs are objects; a missing serde `Value` member reads as null. */
export function objectInput(component: string, input: Json): JsonObject {
  if (!isObject(input))
    throw builtinError(component, `input must be an object, got ${typeName(input)}`);
  return input;
}

export function requireString(component: string, input: JsonObject, key: string): string {
  const value = input[key];
  if (typeof value !== 'string')
    throw builtinError(
      component,
      `input.${key}: expected a string, got ${value === undefined ? 'nothing' : typeName(value)}`,
    );
  return value;
}

export function optionalUint(
  component: string,
  input: JsonObject,
  key: string,
): number | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw builtinError(component, `input.${key}: expected a non-negative integer`);
  }
  return value;
}

export const BLOB_ID = /^[0-9a-f]{64}$/;
