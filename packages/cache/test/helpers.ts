import { expect } from 'vitest';
import { createTestKit, type TestKit } from '@stepflow-packs/core/testing';
import type { SettingsOf } from '@stepflow-packs/core';
import { cachePack } from '../src/index.js';
import type { settings } from '../src/settings.js';

export function cacheKit(config: Partial<SettingsOf<typeof settings>> = {}): TestKit {
  return createTestKit(cachePack, { config });
}

export async function failure(kit: TestKit, component: string, input: unknown) {
  const outcome = await kit.call(component, input);
  expect(outcome.ok, `expected ${component} to fail`).toBe(false);
  if (outcome.ok) throw new Error('unreachable');
  return outcome.error as { code: number; message: string; data?: Record<string, unknown> };
}

export const MISSING_ID = 'f'.repeat(64);
