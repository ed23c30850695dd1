import { spawn, type ChildProcess } from 'node:child_process';

/** A spawned 0.13 worker: own process group, stdout discarded. */
export class WorkerProcess {
  readonly #tail: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  private constructor(readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      child.once('error', (err) => {
        this.#tail.push(`spawn failed: ${err.message}`);
        this.exit = { code: 127, signal: null };
        resolve(this.exit);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Start `command args` in `cwd` with `env`. stdin is inherited as upstream does, stdout goes
   * to /dev/null, stderr is captured (its last lines feed error reports) and passed to
   * `stderr` line by line.
   */
  static spawn(options: {
    command: string;
    args: readonly string[];
    cwd: string;
    env: Record<string, string>;
    stderr: (line: string) => void;
  }): WorkerProcess {
    const child = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['inherit', 'ignore', 'pipe'],
      detached: true, // setsid: its own process group
    });
    const proc = new WorkerProcess(child);
    let partial = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) proc.#line(line, options.stderr);
    });
    child.stderr?.on('end', () => {
      if (partial) proc.#line(partial, options.stderr);
    });
    return proc;
  }

  #line(line: string, sink: (line: string) => void): void {
    this.#tail.push(line);
    if (this.#tail.length > 50) this.#tail.shift();
    sink(line);
  }

  stderrTail(n = 20): string[] {
    return this.#tail.slice(-n);
  }

  /** SIGTERM to the process group, then SIGKILL to the child, as upstream. */
  async kill(): Promise<void> {
    if (this.exit) return;
    const pid = this.child.pid;
    if (pid !== undefined) {
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    this.child.kill('SIGKILL');
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 2000).unref())]);
    if (pid !== undefined) {
      try {
        process.kill(-pid, 'SIGKILL'); // stragglers of the group (a launcher's children)
      } catch {
        /* already gone */
      }
    }
  }
}
