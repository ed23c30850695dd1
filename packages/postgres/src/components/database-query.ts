import { BadRequestError, defineComponent, z } from '@stepflow-packs/core';
import { resolveTarget, withClient } from '../connection.js';
import { classify, failureError, failureFields, failureOutput } from '../failure.js';
import { settings } from '../settings.js';
import {
  connectionStringSchema,
  fetchModeSchema,
  parametersSchema,
  raiseOnFailureSchema,
  runStatement,
} from '../statement.js';
import { setTimeouts, timeoutMs } from '../timeouts.js';

/** The `database_query` contract from Stepflow's docs, with bound parameters and a real timeout. */
export const databaseQuery = defineComponent({
  name: 'database_query',
  description:
    'Run one SQL statement with bound parameters ($1, $2, …) and return its rows; the timeout is a server-side statement_timeout.',
  settings,
  idempotent: false,
  input: z.strictObject({
    connection_string: connectionStringSchema,
    query: z.string().min(1).describe('One SQL statement; use $1, $2, … for values'),
    parameters: parametersSchema,
    fetch_mode: fetchModeSchema,
    timeout: z
      .number()
      .positive()
      .max(86_400)
      .default(30)
      .describe('Statement timeout in seconds, enforced by the server'),
    raise_on_failure: raiseOnFailureSchema,
  }),
  output: z.object({
    success: z.boolean().describe('True when the statement ran'),
    rows: z
      .array(z.record(z.string(), z.unknown()))
      .optional()
      .describe('Rows (fetch_mode all or one)'),
    row_count: z
      .number()
      .int()
      .describe('Rows returned, or rows affected for INSERT/UPDATE/DELETE'),
    command: z.string().optional().describe('SQL command tag, e.g. SELECT or INSERT'),
    execution_time_ms: z.number().describe('Wall time of the call'),
    ...failureFields,
  }),
  async execute(input, ctx) {
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
    const target = resolveTarget(input.connection_string, ctx.config);
    try {
      const result = await withClient(
        target,
        ctx.config,
        ctx.log,
        async (client) => {
          const statementMs = timeoutMs(input.timeout, ctx.config.statementTimeoutMs);
          await setTimeouts(client, statementMs, ctx.config.lockTimeoutMs, false);
          return runStatement(
            client,
            input.query,
            input.parameters,
            input.fetch_mode,
            ctx.config.maxRows,
            statementMs,
          );
        },
        ctx.signal,
      );
      return { success: true, ...result, execution_time_ms: elapsed() };
    } catch (err) {
      if (err instanceof BadRequestError) throw err;
      const failure = classify(err, {
        secrets: target.secrets,
        action: 'database_query',
        commitState: 'none',
      });
      ctx.log.info('query failed', { reason: failure.reason, sqlstate: failure.sqlstate });
      if (input.raise_on_failure) throw failureError(failure);
      return { row_count: 0, execution_time_ms: elapsed(), ...failureOutput(failure) };
    }
  },
});
