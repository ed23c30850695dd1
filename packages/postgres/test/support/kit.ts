import { createTestKit, type TestKit, type TestKitOptions } from '@stepflow-packs/core/testing';
import { postgresPack, type PostgresSettings } from '../../src/index.js';

/** The pack in-process (real dispatcher, validation and error mapping) against a real server. */
export function kitFor(
  url: string,
  config: Partial<PostgresSettings> = {},
  options: Omit<TestKitOptions<typeof postgresPack.settings>, 'config'> = {},
): TestKit {
  return createTestKit(postgresPack, { ...options, config: { databaseUrl: url, ...config } });
}

export interface Failed {
  code: number;
  message: string;
  data: Record<string, unknown>;
}

/** The JSON-RPC error of a call that must fail. */
export async function rpcError(kit: TestKit, component: string, input: unknown): Promise<Failed> {
  const outcome = await kit.call(component, input);
  if (outcome.ok)
    throw new Error(`expected ${component} to fail, got ${JSON.stringify(outcome.output)}`);
  return outcome.error as Failed;
}
