import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../../src/client/index.js';
import type { JsonRpcDialect as Dialect } from '../../src/protocol.js';
import { assertNoProtocolViolations, FIXTURE_BIN, start, type Mode } from '../helpers/workers.js';

assertNoProtocolViolations();

const value = {
  message: 'Hello, blobs!',
  number: 42,
  timestamp: '2024-01-01T00:00:00Z',
  text: 'é😀中',
};
const mechanisms: [string, Mode, Dialect][] = [
  ['v0.8 callbacks over the stdio pipe', 'stdio', 'v0.8'],
  ['v0.8 callbacks inside the execute SSE stream', 'http-subprocess', 'v0.8'],
  ['the v0.11 Blob HTTP API', 'http-subprocess', 'v0.11'],
];

describe.each(mechanisms)('ctx.putBlob / ctx.getBlob through %s', (_name, mode, dialect) => {
  it('stores and reads back a JSON value in the runtime store', async () => {
    const store = new MemoryBlobStore();
    const { worker } = await start(FIXTURE_BIN, mode, dialect, { blobStore: store });
    try {
      const out = (await worker.execute('/blob_roundtrip', { value })) as {
        blob_id: string;
        value: unknown;
      };
      expect(out.value).toEqual(value);
      expect(out.blob_id).toMatch(/^[0-9a-f]{64}$/);
      expect(await store.get(out.blob_id)).toEqual(value);
    } finally {
      await worker.close();
    }
  });

  it('reports an unknown blob id as -32103 blob_not_found', async () => {
    const { worker } = await start(FIXTURE_BIN, mode, dialect);
    try {
      await expect(worker.execute('/get_blob', { blob_id: 'a'.repeat(64) })).rejects.toMatchObject({
        code: -32103,
        data: { reason: 'blob_not_found' },
      });
    } finally {
      await worker.close();
    }
  });
});

describe('without a blob mechanism', () => {
  it('answers -32008 in the v0.11 dialect when the runtime sent no blobApiUrl', async () => {
    // No blob store given: the client starts no Blob API and advertises none.
    const { startWorker } = await import('../../src/client/index.js');
    const worker = await startWorker(
      {
        transport: 'http-subprocess',
        command: process.execPath,
        args: [FIXTURE_BIN],
        env: { PATH: process.env.PATH ?? '' },
      },
      { dialect: 'v0.11' },
    );
    try {
      await expect(worker.execute('/blob_roundtrip', { value: 1 })).rejects.toMatchObject({
        code: -32008,
        message: expect.stringMatching(/blobApiUrl/),
      });
    } finally {
      await worker.close();
    }
  });
});
