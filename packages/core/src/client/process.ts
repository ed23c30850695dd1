import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { TransportError } from '../errors.js';
import type { Logger } from '../logger.js';
import { ErrorCodes } from '../protocol.js';
import { lifelineArgs } from './lifeline.js';

export interface ProcessSpec {
  command: string;
  args?: readonly string[];
  /** The child's whole environment (it is not inherited). Defaults to `{PATH}`. */
  env?: Record<string, string>;
  cwd?: string;
  /**
   * Run a stdio worker behind a lifeline that kills its process group when this process dies
   * (HTTP-subprocess workers always have one). Costs one small extra process.
   */
  lifeline?: boolean;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const STDERR_LINES = 500;

/** A spawned worker process in its own process group, with stderr drained into a ring. */
export class WorkerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<ExitInfo>;
  #exit: ExitInfo | undefined;
  readonly #stderr: string[] = [];
  #partial = '';

  /**
   * `stdin: 'pipe'` gives the worker a protocol pipe (stdio workers); `'devnull'` gives it
   * /dev/null (v0.11 subprocess mode), always behind a lifeline. `spec.lifeline` puts a stdio
   * worker behind a lifeline too.
   */
  constructor(spec: ProcessSpec, options: { stdin: 'pipe' | 'devnull'; log: Logger }) {
    const env = spec.env ?? { PATH: process.env.PATH ?? '' };
    const stdio: StdioOptions = ['pipe', 'pipe', 'pipe'];
    const [command, args] =
      options.stdin === 'devnull'
        ? [process.execPath, lifelineArgs('devnull', spec.command, spec.args)]
        : spec.lifeline
          ? [process.execPath, lifelineArgs('inherit', spec.command, spec.args)]
          : [spec.command, [...(spec.args ?? [])]];
    this.child = spawn(command, args, { stdio, env, cwd: spec.cwd, detached: true });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
      this.child.once('error', (err) => {
        this.#pushStderr(`spawn failed: ${err.message}`);
        this.#exit = { code: 127, signal: null };
        resolve(this.#exit);
      });
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (text: string) => {
      const lines = (this.#partial + text).split('\n');
      this.#partial = lines.pop() ?? '';
      for (const line of lines) {
        this.#pushStderr(line);
        options.log.debug('worker stderr', { line });
      }
    });
    this.child.stdin!.on('error', () => {
      /* EPIPE after the worker died: reported through `exited` */
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get exitInfo(): ExitInfo | undefined {
    return this.#exit;
  }

  /** The last lines the worker wrote to stderr (at most 500). */
  stderrTail(lines = STDERR_LINES): string[] {
    const tail = this.#partial ? [...this.#stderr, this.#partial] : this.#stderr;
    return tail.slice(-lines);
  }

  /** Signal the worker's whole process group. */
  killGroup(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.#exit || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      this.child.kill(signal);
    }
  }

  /** SIGTERM the group, then SIGKILL after `graceMs`; resolves when the process is gone. */
  async stop(graceMs = 2000): Promise<ExitInfo> {
    if (this.#exit) return this.#exit;
    this.killGroup('SIGTERM');
    const timer = setTimeout(() => this.killGroup('SIGKILL'), graceMs);
    const info = await this.exited;
    clearTimeout(timer);
    return info;
  }

  /** A transport error describing how the process ended, with its last stderr lines. */
  crashError(what: string): TransportError {
    const exit = this.#exit;
    const how = exit
      ? exit.signal
        ? `was killed by ${exit.signal}`
        : `exited with code ${exit.code}`
      : 'stopped responding';
    return new TransportError(`${what}: the worker ${how}`, {
      exit_code: exit?.code ?? null,
      signal: exit?.signal ?? null,
      stderr: this.stderrTail(20),
    });
  }

  #pushStderr(line: string): void {
    this.#stderr.push(line);
    if (this.#stderr.length > STDERR_LINES) this.#stderr.shift();
  }
}

export function spawnError(message: string, data?: unknown): TransportError {
  return new TransportError(message, data, ErrorCodes.TRANSPORT_SPAWN_ERROR);
}
