import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { runRunner, tempDir, TRACKER, trackerConfig } from './helpers.js';

// Workers and builtins share one blob store per environment: v0.8 blobs/put|get callbacks
// (stdio, and SSE for a remote HTTP worker) and the v0.11 Blob HTTP API.
const SCHEMA = 'schema: https://stepflow.org/schemas/v1/flow.json\n';
const FLOW = `${SCHEMA}steps:
  - id: stash
    component: /tracker/stash
    input: {value: {message: "Hello, blobs!", number: 42, timestamp: "2024-01-01T00:00:00Z"}}
  - id: read
    component: /builtin/get_blob
    input: {blob_id: {$step: stash, path: blob_id}}
output:
  id: {$step: stash, path: blob_id}
  worker_read: {$step: stash, path: read_back}
  builtin_read: {$step: read, path: data}
`;
const EXPECTED = {
  outcome: 'success',
  result: {
    id: '2b566ff16f11d28c29521759abde29e5762fb10b7a1c4dec05c09d9057b41d7c',
    worker_read: { message: 'Hello, blobs!', number: 42, timestamp: '2024-01-01T00:00:00Z' },
    builtin_read: { message: 'Hello, blobs!', number: 42, timestamp: '2024-01-01T00:00:00Z' },
  },
};
const BUILTIN = {
  extraPlugins: '  builtin: {type: builtin}\n',
  extraRoutes: '  "/builtin/{component}": [{plugin: builtin}]\n',
};

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe('one blob store shared by workers and builtins', () => {
  for (const [label, args] of [
    ['v0.8 blobs/put|get callbacks over stdio', ['--emulate', 'v0.8']],
    ['the v0.11 Blob HTTP API (HTTP subprocess)', ['--emulate', 'v0.11']],
  ] as const) {
    it(`stores through ${label} and reads back with get_blob, with the runtime's id`, async () => {
      const w = tempDir('blobs');
      cleanups.push(w.cleanup);
      w.write('stepflow-config.yml', trackerConfig(BUILTIN));
      w.write('flow.yaml', FLOW);
      const result = await runRunner(['run', '--flow', 'flow.yaml', ...args], w.dir);
      expect(JSON.parse(result.stdout)).toEqual(EXPECTED);
    });
  }

  it('stores through v0.8 callbacks inside an SSE response of a remote HTTP worker', async () => {
    const worker = spawn(process.execPath, [TRACKER, '--transport', 'http', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    cleanups.push(() => worker.kill('SIGKILL'));
    const port = await new Promise<number>((resolve) =>
      worker.stdout.once('data', (d: Buffer) =>
        resolve((JSON.parse(d.toString().split('\n')[0]!) as { port: number }).port),
      ),
    );
    const w = tempDir('blobs-sse');
    cleanups.push(w.cleanup);
    w.write(
      'stepflow-config.yml',
      `plugins:\n  builtin: {type: builtin}\n  tracker: {type: stepflow, transport: http, url: "http://127.0.0.1:${port}"}\nroutes:\n  "/tracker/{component}": [{plugin: tracker}]\n  "/builtin/{component}": [{plugin: builtin}]\n`,
    );
    w.write('flow.yaml', FLOW);
    const result = await runRunner(['run', '--flow', 'flow.yaml', '--emulate', 'v0.8'], w.dir);
    expect(JSON.parse(result.stdout)).toEqual(EXPECTED);
  });
});
