import { BadRequestError, defineComponent, z } from '@stepflow-packs/core';
import { resolveTarget, withClient } from '../connection.js';
import {
  classify,
  failureError,
  failureFields,
  failureOutput,
  type CommitState,
} from '../failure.js';
import { settings } from '../settings.js';
import {
  connectionStringSchema,
  fetchModeSchema,
  parametersSchema,
  raiseOnFailureSchema,
  runStatement,
  type StatementResult,
} from '../statement.js';
import { setTimeouts, timeoutMs } from '../timeouts.js';

const ISOLATION = {
  read_committed: 'READ COMMITTED',
  repeatable_read: 'REPEATABLE READ',
  serializable: 'SERIALIZABLE',
} as const;

const CONTROL = new Set([
  'begin',
  'start',
  'commit',
  'end',
  'rollback',
  'abort',
  'savepoint',
  'release',
  'prepare',
]);

/** The first keyword of a statement, after leading comments. */
export function leadingKeyword(sql: string): string {
  let text = sql;
  for (;;) {
    text = text.trimStart();
    if (text.startsWith('--')) {
      const nl = text.indexOf('\n');
      text = nl === -1 ? '' : text.slice(nl + 1);
    } else if (text.startsWith('/*')) {
      const end = text.indexOf('*/');
      text = end === -1 ? '' : text.slice(end + 2);
    } else break;
  }
  return (/^[A-Za-z]+/.exec(text)?.[0] ?? '').toLowerCase();
}

/** Several parameterised statements, committed together or not at all. */
export const transaction = defineComponent({
  name: 'transaction',
  description:
    'Run several parameterised statements atomically in one transaction: all take effect or none (rolled back on the first failure).',
  settings,
  idempotent: false,
  input: z.strictObject({
    connection_string: connectionStringSchema,
    statements: z
      .array(
        z.strictObject({
          query: z.string().min(1).describe('One SQL statement; use $1, $2, … for values'),
          parameters: parametersSchema,
          fetch_mode: fetchModeSchema,
        }),
      )
      .min(1)
      .max(1000)
      .describe('Statements, executed in order'),
    isolation_level: z
      .enum(['read_committed', 'repeatable_read', 'serializable'])
      .default('read_committed')
      .describe('Transaction isolation level'),
    read_only: z.boolean().default(false).describe('Start the transaction READ ONLY'),
    timeout: z
      .number()
      .positive()
      .max(86_400)
      .default(30)
      .describe('Statement timeout in seconds for each statement, enforced by the server'),
    raise_on_failure: raiseOnFailureSchema,
  }),
  output: z.object({
    success: z.boolean().describe('True when every statement ran and the transaction committed'),
    results: z
      .array(
        z.object({
          rows: z.array(z.record(z.string(), z.unknown())).optional(),
          row_count: z.number().int(),
          command: z.string(),
        }),
      )
      .describe('One result per statement (empty on failure: nothing took effect)'),
    statements_executed: z
      .number()
      .int()
      .describe('Statements that ran before COMMIT (or before the failure)'),
    failed_statement: z.number().int().optional().describe('Index of the statement that failed'),
    execution_time_ms: z.number(),
    ...failureFields,
  }),
  async execute(input, ctx) {
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
    input.statements.forEach((statement, i) => {
      const keyword = leadingKeyword(statement.query);
      if (CONTROL.has(keyword)) {
        throw new BadRequestError(
          `statements[${i}] is a transaction-control statement (${keyword.toUpperCase()}); the component begins and commits the transaction itself`,
          {
            reason: 'transaction_control',
            field: `statements[${i}].query`,
          },
        );
      }
    });
    const target = resolveTarget(input.connection_string, ctx.config);
    let commitState: CommitState = 'none';
    let current: number | undefined;
    let executed = 0;
    try {
      const results = await withClient(
        target,
        ctx.config,
        ctx.log,
        async (client) => {
          await client.query(
            `BEGIN ISOLATION LEVEL ${ISOLATION[input.isolation_level]}${input.read_only ? ' READ ONLY' : ''}`,
          );
          commitState = 'rolled_back';
          const statementMs = timeoutMs(input.timeout, ctx.config.statementTimeoutMs);
          await setTimeouts(client, statementMs, ctx.config.lockTimeoutMs, true);
          const out: StatementResult[] = [];
          for (let i = 0; i < input.statements.length; i++) {
            const statement = input.statements[i]!;
            current = i;
            out.push(
              await runStatement(
                client,
                statement.query,
                statement.parameters,
                statement.fetch_mode,
                ctx.config.maxRows,
                statementMs,
              ),
            );
            executed = i + 1;
          }
          current = undefined;
          commitState = 'unknown';
          await client.query('COMMIT');
          commitState = 'committed';
          return out;
        },
        ctx.signal,
      );
      return {
        success: true,
        results,
        statements_executed: executed,
        execution_time_ms: elapsed(),
        commit_state: commitState,
      };
    } catch (err) {
      if (err instanceof BadRequestError) throw err;
      const failure = classify(err, {
        secrets: target.secrets,
        action: current === undefined ? 'transaction' : `transaction statements[${current}]`,
        commitState,
        ...(current !== undefined ? { statement: current } : {}),
      });
      ctx.log.info('transaction failed', {
        reason: failure.reason,
        sqlstate: failure.sqlstate,
        commitState,
      });
      if (input.raise_on_failure) throw failureError(failure);
      return {
        results: [],
        statements_executed: executed,
        ...(current !== undefined ? { failed_statement: current } : {}),
        execution_time_ms: elapsed(),
        ...failureOutput(failure),
      };
    }
  },
});
