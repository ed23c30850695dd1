import { expect } from 'vitest';
import { createTestKit, type TestKit } from '@stepflow-packs/core/testing';
import { dataPack } from '../src/index.js';
import type { settings } from '../src/settings.js';
import type { SettingsOf } from '@stepflow-packs/core';

export function dataKit(config: Partial<SettingsOf<typeof settings>> = {}): TestKit {
  return createTestKit(dataPack, { config });
}

/** Parse JSON text: keys such as __proto__ become own properties, as on the wire. */
export const json = <T = unknown>(text: string): T => JSON.parse(text) as T;

/** Execute and expect a JSON-RPC error; returns it for further assertions. */
export async function failure(kit: TestKit, component: string, input: unknown) {
  const outcome = await kit.call(component, input);
  expect(outcome.ok, `expected ${component} to fail`).toBe(false);
  if (outcome.ok) throw new Error('unreachable');
  return outcome.error as {
    code: number;
    message: string;
    data?: Record<string, unknown> & { reason?: string };
  };
}
