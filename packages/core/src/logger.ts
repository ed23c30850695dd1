/**
 * Minimal structured logger writing JSON lines to stderr (never stdout: in stdio mode stdout
 * carries protocol frames only). Level from STEPFLOW_LOG_LEVEL; inputs are never logged at info.
 */

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';

const LEVELS: Record<LogLevel, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  silent: 100,
};

export interface Logger {
  readonly level: LogLevel;
  trace(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(bindings: Record<string, unknown>): Logger;
  isEnabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  level?: LogLevel;
  bindings?: Record<string, unknown>;
  /** Where lines go; defaults to process.stderr. */
  write?: (line: string) => void;
}

export function isLogLevel(value: string): value is LogLevel {
  return Object.hasOwn(LEVELS, value);
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const threshold = LEVELS[level];
  const bindings = options.bindings ?? {};
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[lvl] < threshold) return;
    let line: string;
    try {
      line = JSON.stringify({
        level: lvl,
        time: new Date().toISOString(),
        ...bindings,
        ...fields,
        msg,
      });
    } catch {
      line = JSON.stringify({ level: lvl, time: new Date().toISOString(), msg });
    }
    write(line + '\n');
  };
  return {
    level,
    trace: (msg, fields) => emit('trace', msg, fields),
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (more) => createLogger({ level, write, bindings: { ...bindings, ...more } }),
    isEnabled: (lvl) => LEVELS[lvl] >= threshold,
  };
}

/** A logger that drops everything (for in-process tests). */
export const silentLogger: Logger = createLogger({ level: 'silent' });

/**
 * Rate-limit a noisy log call: at most `perInterval` lines per `intervalMs`, then one summary
 * of how many were suppressed. Used for malformed-input warnings.
 */
export function rateLimited(
  log: (msg: string, fields?: Record<string, unknown>) => void,
  perInterval = 10,
  intervalMs = 1000,
): (msg: string, fields?: Record<string, unknown>) => void {
  let windowStart = 0;
  let count = 0;
  let suppressed = 0;
  return (msg, fields) => {
    const now = Date.now();
    if (now - windowStart >= intervalMs) {
      if (suppressed > 0) log('suppressed similar messages', { suppressed });
      windowStart = now;
      count = 0;
      suppressed = 0;
    }
    if (count < perInterval) {
      count++;
      log(msg, fields);
    } else {
      suppressed++;
    }
  };
}
