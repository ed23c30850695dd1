import { readFileSync } from 'node:fs';
import type { Logger } from './logger.js';
import { SettingsError } from './settings.js';

/**
 * An HTTP worker started as a subprocess has /dev/null on stdin (Stepflow v0.11), so no EOF
 * tells it that its runtime died, and launchers such as `npx` pass no signal on. It watches
 * its ancestry instead: when the process that started it, or any launcher between it and the
 * nearest ancestor adopted by init, is reparented or gone, it shuts down as on SIGTERM. Only a
 * *change* counts: a worker whose parent is init from the start (systemd, containers) has
 * nothing to watch.
 */

const POLL_MS = 500;
/** Launchers between the worker and its runtime are few (npx, a shell); bound the walk. */
const MAX_DEPTH = 8;

interface Link {
  pid: number;
  ppid: number;
  /** Start time in clock ticks since boot: tells a reused pid from the original process. */
  start: string;
}

/** pid, ppid and start time of a process from /proc (Linux); undefined when unreadable. */
function linkOf(pid: number): Link | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state ppid … starttime (field 22).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, ppid: Number(fields[1]), start: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

/** This process and its ancestors, nearest first, up to the first one adopted by init. */
function ancestry(): Link[] {
  const chain: Link[] = [];
  let link = linkOf(process.pid);
  while (link && chain.length < MAX_DEPTH) {
    chain.push(link);
    if (link.ppid <= 1) break;
    link = linkOf(link.ppid);
  }
  return chain;
}

function changed(link: Link): boolean {
  const now = linkOf(link.pid);
  return now === undefined || now.start !== link.start || now.ppid !== link.ppid;
}

/** `--no-exit-with-parent` or `STEPFLOW_EXIT_WITH_PARENT` (default on); throws on a bad value. */
export function exitWithParentSetting(disabledByFlag: unknown, env: string | undefined): boolean {
  if (disabledByFlag === true) return false;
  const value = (env ?? '').trim().toLowerCase();
  if (['', '1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw new SettingsError([
    `STEPFLOW_EXIT_WITH_PARENT: expected true or false, got ${JSON.stringify(env)}`,
  ]);
}

/**
 * Poll the ancestry every 500 ms on an unref'd timer and send this process SIGTERM (graceful
 * drain) once it changes. Without /proc only the direct parent is watched.
 */
export function exitWithParentProcess(log: Logger): void {
  const initialParent = process.ppid;
  if (initialParent <= 1) return;
  const chain = ancestry();
  const timer = setInterval(() => {
    const gone =
      process.ppid !== initialParent || (chain.length > 0 && chain.some((link) => changed(link)));
    if (!gone) return;
    clearInterval(timer);
    log.warn('the process that started this worker is gone; shutting down', {
      parent: initialParent,
    });
    process.kill(process.pid, 'SIGTERM');
  }, POLL_MS);
  timer.unref();
}
