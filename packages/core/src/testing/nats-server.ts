/** A real nats-server (Debian package) with JetStream on 127.0.0.1, for tests of NATS workers and orchestrators. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect as connectTcp, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The nats-server binary: $NATS_SERVER, then PATH and Debian's /usr/sbin. */
export function natsServerBinary(): string {
  const candidates = [
    process.env.NATS_SERVER,
    ...(process.env.PATH ?? '').split(':').map((dir) => join(dir, 'nats-server')),
    '/usr/sbin/nats-server',
    '/usr/bin/nats-server',
  ];
  const found = candidates.find((path) => path && existsSync(path));
  if (!found) {
    throw new Error(
      "nats-server is not installed: install Debian's package (apt-get install nats-server) or set NATS_SERVER to the binary",
    );
  }
  return found;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function listening(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connectTcp(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nats-server did not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A real nats-server with JetStream on 127.0.0.1, storing in a temporary folder. */
export class NatsServer {
  #child: ChildProcess | undefined;
  readonly #store = mkdtempSync(join(tmpdir(), 'nats-js-'));

  private constructor(readonly port: number) {}

  static async start(): Promise<NatsServer> {
    const server = new NatsServer(await freePort());
    await server.resume();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Start (again) on the same port and store: a restart keeps streams and consumers. */
  async resume(): Promise<void> {
    this.#child = spawn(
      natsServerBinary(),
      ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.#store],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    );
    await listening(this.port, 10_000);
  }

  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.#store, { recursive: true, force: true });
  }
}
