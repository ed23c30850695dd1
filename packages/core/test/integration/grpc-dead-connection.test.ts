import { once } from 'node:events';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { Code, ConnectError } from '@connectrpc/connect';
import { afterEach, describe, expect, it } from 'vitest';
import { GrpcChannels } from '../../src/transport/grpc/channels.js';
import { encodeTaskHeartbeat } from '../../src/transport/grpc/wire.js';
import { FixtureOrchestrator } from '../helpers/grpc-orchestrator.js';

/**
 * A TCP proxy in front of the orchestrator whose open connections can be frozen: nothing passes
 * either way and nothing is closed, as when a host or a NAT drops a connection without a word.
 * Connections made after the freeze pass normally.
 */
class FreezingProxy {
  readonly #pairs: [Socket, Socket][] = [];
  private constructor(readonly server: ReturnType<typeof createServer>) {}

  static async start(targetPort: number): Promise<FreezingProxy> {
    const server = createServer();
    const proxy = new FreezingProxy(server);
    server.on('connection', (client) => {
      const upstream = createConnection(targetPort, '127.0.0.1');
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      proxy.#pairs.push([client, upstream]);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return proxy;
  }

  get url(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  freeze(): void {
    for (const [client, upstream] of this.#pairs.splice(0)) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  close(): void {
    this.server.close();
  }
}

let orchestrator: FixtureOrchestrator;
let proxy: FreezingProxy;
afterEach(async () => {
  proxy.close();
  await orchestrator.stop();
});

const codeOf = (call: Promise<unknown>) =>
  call.then(
    () => Code[0],
    (err: unknown) => Code[ConnectError.from(err).code],
  );

describe('gRPC unary calls on a connection that went silent', () => {
  it('a call with no answer at all within its deadline gives the connection up: the next call connects anew', async () => {
    orchestrator = await FixtureOrchestrator.start();
    proxy = await FreezingProxy.start(orchestrator.port);
    const channels = new GrpcChannels({ writeMaxBytes: 4 << 20 });
    const calls = channels.get(proxy.url).orchestrator;
    const beat = (timeoutMs: number) =>
      calls.taskHeartbeat(encodeTaskHeartbeat({ taskId: 'unknown-task', workerId: 'w' }), {
        timeoutMs,
      });
    const answer = await codeOf(beat(5_000)); // the fixture's answer for a task it never sent
    expect(answer).not.toBe('DeadlineExceeded');

    proxy.freeze();
    expect(await codeOf(beat(300))).toBe('DeadlineExceeded');
    // the dead connection is dropped at the deadline, so this one reaches the server again
    expect(await codeOf(beat(5_000))).toBe(answer);
    expect(await codeOf(beat(5_000))).toBe(answer);
  });
});
