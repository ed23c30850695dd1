import {
  BadRequestError,
  ComponentError,
  ComponentValueError,
  ErrorCodes,
  ResourceUnavailableError,
  RpcError,
  z,
} from '@stepflow-packs/core';
import { connectFailures, isConnectionLevel } from './connection.js';
import { safeMessage } from './redact.js';

export type CommitState = 'committed' | 'rolled_back' | 'unknown' | 'none';

/** Everything known about a failed call; reported as data or raised as a JSON-RPC error. */
export interface Failure {
  code: number;
  message: string;
  sqlstate?: string;
  retryable: boolean;
  reason: string;
  record?: number;
  column?: string;
  constraint?: string;
  statement?: number;
  commitState: CommitState;
}

/** Failure fields every component's output carries (snake_case, as in Stepflow's docs). */
export const failureFields = {
  error_message: z.string().optional().describe('What failed (present when success is false)'),
  error_code: z
    .number()
    .int()
    .optional()
    .describe(
      'The JSON-RPC code raise_on_failure would use: -32101 data error, -32102 unavailable/timeout, -32100 other',
    ),
  sqlstate: z.string().optional().describe('PostgreSQL SQLSTATE of the error, e.g. 23505 or 57014'),
  retryable: z.boolean().optional().describe('Whether running the call again can succeed'),
  record_index: z
    .number()
    .int()
    .optional()
    .describe('Index in records of the record that failed (bulk operations)'),
  column: z.string().optional().describe('Column that failed, when PostgreSQL names it'),
  commit_state: z
    .enum(['committed', 'rolled_back', 'unknown', 'none'])
    .optional()
    .describe(
      'committed, rolled_back, unknown (connection lost during COMMIT) or none (nothing was written)',
    ),
};

interface PgErrorLike {
  code?: string;
  message: string;
  column?: string;
  constraint?: string;
  where?: string;
  severity?: string;
}

function pgError(err: unknown): PgErrorLike | undefined {
  if (!(err instanceof Error)) return undefined;
  const e = err as Error & PgErrorLike;
  return typeof e.code === 'string' &&
    /^[0-9A-Z]{5}$/.test(e.code) &&
    typeof e.severity === 'string'
    ? e
    : undefined;
}

const RETRYABLE_STATES = new Set([
  '40001',
  '40P01',
  '55P03',
  '57014',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '53400',
  '53200',
  '53100',
]);

export interface ClassifyOptions {
  secrets: readonly string[];
  /** What was being done, for the message: `bulk_insert into "public"."t"`. */
  action: string;
  commitState: CommitState;
  /** Map a COPY line number (1-based) to a record index. */
  lineToRecord?: (line: number) => number | undefined;
  /** Known column names, to read the failing column out of a COPY context line. */
  columns?: readonly string[];
  statement?: number;
  /** Can the whole call be retried safely when its commit state is unknown (upserts)? */
  idempotent?: boolean;
}

function copyLocation(where: string | undefined, columns: readonly string[] | undefined) {
  if (!where) return {};
  const match = /COPY [^\n]*?, line (\d+)(?:, column (.*?): |, column (.*)$|:|$)/m.exec(where);
  if (!match) return {};
  const line = Number(match[1]);
  let column = match[2] ?? match[3];
  if (column !== undefined && columns && !columns.includes(column)) {
    column = columns.find(
      (c) => where.includes(`, column ${c}:`) || where.endsWith(`, column ${c}`),
    );
  }
  return { line, column };
}

/** Turn anything thrown while talking to PostgreSQL into a Failure (secrets scrubbed). */
export function classify(err: unknown, options: ClassifyOptions): Failure {
  if (err instanceof RpcError) {
    const data = (err.data ?? {}) as Record<string, unknown>;
    return {
      code: err.code,
      message: err.message,
      retryable: data.retryable === true,
      reason: typeof data.reason === 'string' ? data.reason : 'error',
      commitState: options.commitState,
      ...(typeof data.record === 'number' ? { record: data.record } : {}),
      ...(typeof data.column === 'string' ? { column: data.column } : {}),
    };
  }
  const text = safeMessage(err, options.secrets);
  const pgErr = pgError(err);
  const sqlstate = pgErr?.code;
  const base = { sqlstate, commitState: options.commitState, statement: options.statement };
  const lost = isConnectionLevel(err);
  const connecting = typeof err === 'object' && err !== null && connectFailures.has(err);
  if (connecting && !(sqlstate && (sqlstate.startsWith('28') || sqlstate === '3D000'))) {
    return {
      ...base,
      code: ErrorCodes.COMPONENT_RESOURCE_UNAVAILABLE,
      message: `${options.action}: cannot connect to PostgreSQL (${text})`,
      retryable: true,
      reason: 'connect_failed',
    };
  }
  if (lost || (sqlstate && (sqlstate.startsWith('08') || sqlstate.startsWith('57P')))) {
    const unknown = options.commitState === 'unknown';
    const timeout =
      text.includes('timeout exceeded when trying to connect') ||
      text.includes('Query read timeout');
    return {
      ...base,
      code: ErrorCodes.COMPONENT_RESOURCE_UNAVAILABLE,
      message: unknown
        ? `${options.action}: the connection was lost during COMMIT, so whether the data was committed is unknown (${text})`
        : `${options.action}: ${timeout ? 'PostgreSQL did not answer in time' : 'the connection to PostgreSQL was lost'}; nothing was committed (${text})`,
      retryable: !unknown || options.idempotent === true,
      reason: unknown ? 'commit_unknown' : timeout ? 'timeout' : 'connection_lost',
    };
  }
  if (sqlstate) {
    const where = copyLocation(pgErr?.where, options.columns);
    const record = where.line !== undefined ? options.lineToRecord?.(where.line) : undefined;
    const column = pgErr?.column ?? where.column;
    const at =
      record !== undefined
        ? ` at records[${record}]${column ? `.${column}` : ''}`
        : column
          ? ` in column ${column}`
          : '';
    const located = {
      ...(record !== undefined ? { record } : {}),
      ...(column ? { column } : {}),
      ...(pgErr?.constraint ? { constraint: pgErr.constraint } : {}),
    };
    const cls = sqlstate.slice(0, 2);
    if (cls === '22' || cls === '23' || cls === '21') {
      return {
        ...base,
        ...located,
        code: ErrorCodes.COMPONENT_VALUE_ERROR,
        message: `${options.action} failed${at}: ${text}`,
        retryable: false,
        reason:
          cls === '22'
            ? 'data_exception'
            : cls === '23'
              ? 'integrity_constraint_violation'
              : 'cardinality_violation',
      };
    }
    if (sqlstate === '57014') {
      const statementTimeout = text.includes('statement timeout');
      return {
        ...base,
        code: ErrorCodes.COMPONENT_RESOURCE_UNAVAILABLE,
        message: `${options.action}: ${statementTimeout ? 'statement timeout reached; the statement was cancelled on the server' : text}`,
        retryable: true,
        reason: statementTimeout ? 'statement_timeout' : 'query_canceled',
      };
    }
    if (RETRYABLE_STATES.has(sqlstate) || cls === '53') {
      return {
        ...base,
        code: ErrorCodes.COMPONENT_RESOURCE_UNAVAILABLE,
        message: `${options.action}: ${text}`,
        retryable: true,
        reason:
          sqlstate === '55P03'
            ? 'lock_timeout'
            : cls === '40'
              ? 'transaction_rollback'
              : 'unavailable',
      };
    }
    if (cls === '28' || sqlstate === '3D000') {
      return {
        ...base,
        code: ErrorCodes.COMPONENT_RESOURCE_UNAVAILABLE,
        message: `${options.action}: cannot connect: ${text}`,
        retryable: false,
        reason: cls === '28' ? 'authentication_failed' : 'unknown_database',
      };
    }
    return {
      ...base,
      ...located,
      code: ErrorCodes.COMPONENT_EXECUTION_FAILED,
      message: `${options.action} failed${at}: ${text}`,
      retryable: false,
      reason: 'sql_error',
    };
  }
  return {
    ...base,
    code: ErrorCodes.COMPONENT_EXECUTION_FAILED,
    message: `${options.action} failed: ${text}`,
    retryable: false,
    reason: 'error',
  };
}

/** The output fields of a failure reported as data. */
export function failureOutput(failure: Failure) {
  return {
    success: false as const,
    error_message: failure.message,
    error_code: failure.code,
    ...(failure.sqlstate ? { sqlstate: failure.sqlstate } : {}),
    retryable: failure.retryable,
    ...(failure.record !== undefined ? { record_index: failure.record } : {}),
    ...(failure.column !== undefined ? { column: failure.column } : {}),
    commit_state: failure.commitState,
  };
}

/** The JSON-RPC error of a failure (raise_on_failure, or policy refusals which always raise). */
export function failureError(failure: Failure): RpcError {
  const data: Record<string, unknown> = {
    reason: failure.reason,
    ...(failure.sqlstate ? { sqlstate: failure.sqlstate } : {}),
    ...(failure.record !== undefined ? { record: failure.record } : {}),
    ...(failure.column !== undefined ? { column: failure.column } : {}),
    ...(failure.constraint !== undefined ? { constraint: failure.constraint } : {}),
    ...(failure.statement !== undefined ? { statement: failure.statement } : {}),
    commitState: failure.commitState,
  };
  switch (failure.code) {
    case ErrorCodes.COMPONENT_VALUE_ERROR:
      return new ComponentValueError(failure.message, data);
    case ErrorCodes.COMPONENT_RESOURCE_UNAVAILABLE:
      return new ResourceUnavailableError(failure.message, {
        ...data,
        retryable: failure.retryable,
      });
    case ErrorCodes.COMPONENT_BAD_REQUEST:
      return new BadRequestError(failure.message, data as { reason: string });
    default:
      return new ComponentError(failure.message, data, failure.code);
  }
}
