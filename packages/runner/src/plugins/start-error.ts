import { ErrorCodes } from '@stepflow-packs/core';
import { TransportError } from '@stepflow-packs/core/client';

/** How a worker was launched: what a failed start names. */
export interface WorkerLaunch {
  command: string;
  args: readonly string[];
  /** The worker's working directory. */
  cwd: string;
}

export interface WorkerExit {
  code: number | null;
  signal: string | null;
}

/** Exit code of a shell (or of the runner's spawn) for a command that does not exist. */
export const COMMAND_NOT_FOUND_EXIT = 127;

const NPM_404 = /npm (?:ERR!|error) (?:code E404|404)/;
const SPAWN_ENOENT = /spawn failed: .*ENOENT/;

/**
 * A worker that could not be started: its command, working folder, exit and last stderr lines,
 * with a hint for the usual causes (command not found, npm package not on the registry).
 */
export class WorkerStartError extends TransportError {
  constructor(
    /** One line: what went wrong (`the worker exited with code 1 before answering initialize`). */
    readonly reason: string,
    readonly launch: WorkerLaunch | undefined,
    readonly exit: WorkerExit | undefined,
    readonly stderr: readonly string[],
    /** The command could not even be found (no process was started). */
    readonly commandNotFound = false,
  ) {
    super(
      reason,
      {
        ...(exit?.code !== undefined && exit.code !== null ? { exit_code: exit.code } : {}),
        ...(exit?.signal ? { signal: exit.signal } : {}),
        stderr: [...stderr],
      },
      ErrorCodes.TRANSPORT_SPAWN_ERROR,
    );
    this.name = 'WorkerStartError';
  }

  /** Hints for the recognised causes (possibly none). */
  get hints(): string[] {
    return startHints({
      exitCode: this.exit?.code ?? null,
      stderr: this.stderr,
      commandNotFound: this.commandNotFound,
    });
  }

  /** The reason, then indented lines: command, working folder, stderr tail, hints. */
  describe(): string {
    const lines = [this.reason];
    if (this.launch) {
      lines.push(
        `  command: ${[this.launch.command, ...this.launch.args].map(shellQuote).join(' ')}`,
      );
      lines.push(`  working folder: ${this.launch.cwd}`);
    }
    if (this.stderr.length === 0 && !this.commandNotFound) lines.push('  stderr: (nothing)');
    for (const line of this.stderr) lines.push(`  stderr: ${line}`);
    for (const hint of this.hints) lines.push(`  hint: ${hint}`);
    return lines.join('\n');
  }
}

/** Hints for a failed worker start, from its exit code and stderr. */
export function startHints(failure: {
  exitCode: number | null;
  stderr: readonly string[];
  commandNotFound?: boolean;
}): string[] {
  const hints: string[] = [];
  if (failure.stderr.some((line) => NPM_404.test(line)))
    hints.push(
      'the package is not on the registry: check the name / install it locally (npm install --save-dev <package>) and point `command` at node_modules/.bin/<bin> or `node <path>/dist/bin.js`',
    );
  else if (
    failure.commandNotFound ||
    failure.exitCode === COMMAND_NOT_FOUND_EXIT ||
    failure.stderr.some((line) => SPAWN_ENOENT.test(line))
  )
    hints.push(
      'command not found: is the pack installed? Check `command`/`args` in the config (a relative path is resolved against the working folder) and the PATH the worker gets',
    );
  return hints;
}

/** A plugin of the environment that could not start; `details` is the full description. */
export class PluginStartError extends Error {
  constructor(
    readonly plugin: string,
    readonly failure: unknown,
  ) {
    super(
      `plugin "${plugin}" failed to start: ${failure instanceof WorkerStartError ? failure.describe() : failure instanceof Error ? failure.message : String(failure)}`,
    );
    this.name = 'PluginStartError';
  }
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
