import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryBlobStore, RpcError, type WorkerClient } from '@stepflow-packs/core/client';
import { startBuiltWorker } from '@stepflow-packs/core/testing';
import { MISSING_ID } from './helpers.js';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

type Transport = 'stdio' | 'http-subprocess';

async function startCache(
  transport: Transport,
  dialect: 'v0.8' | 'v0.11',
  blobStore?: MemoryBlobStore,
  blobApiUrl?: string,
): Promise<WorkerClient> {
  return startBuiltWorker(BIN, transport, {
    dialect,
    requestTimeoutMs: 15_000,
    ...(blobStore ? { blobStore } : {}),
    ...(blobApiUrl ? { blobApiUrl } : {}),
  });
}

// v0.8: blobs/put|get callbacks over the stdio pipe or the SSE stream; v0.11: the Blob HTTP API.
const matrix: [Transport, 'v0.8' | 'v0.11', string][] = [
  ['stdio', 'v0.8', 'JSON-RPC callbacks on the pipe'],
  ['http-subprocess', 'v0.8', 'JSON-RPC callbacks over SSE'],
  ['stdio', 'v0.11', 'the Blob HTTP API'],
  ['http-subprocess', 'v0.11', 'the Blob HTTP API'],
];

describe.each(matrix)(
  'built stepflow-pack-cache over %s speaking %s (blobs through %s)',
  (transport, dialect) => {
    const store = new MemoryBlobStore();
    let worker: WorkerClient;

    beforeAll(async () => {
      worker = await startCache(transport, dialect, store);
    }, 20_000);

    afterAll(async () => {
      await worker?.close();
    });

    it('stores an entry in the runtime’s blob store and reads it back', async () => {
      const data = JSON.parse('{"name":"Zoë 😀","__proto__":{"x":1}}') as Record<string, unknown>;
      const stored = (await worker.execute('/cache_data', {
        key: 'profile',
        data,
        ttl_minutes: 5,
      })) as { blob_id: string; expires_at: string };
      const blob = store.lookup(stored.blob_id);
      expect(blob?.type).toBe('data');
      expect(blob?.data).toMatchObject({
        cache_key: 'profile',
        ttl_minutes: 5,
        expires_at: stored.expires_at,
      });

      const read = (await worker.execute('/retrieve_cache', { blob_id: stored.blob_id })) as Record<
        string,
        unknown
      >;
      expect(read).toMatchObject({ found: true, is_expired: false, cache_key: 'profile' });
      expect(JSON.stringify(read.data)).toBe('{"name":"Zoë 😀","__proto__":{"x":1}}');
    });

    it('answers found: false for a blob the store does not have', async () => {
      expect(await worker.execute('/retrieve_cache', { blob_id: MISSING_ID })).toMatchObject({
        found: false,
        data: null,
        is_expired: false,
      });
    });

    it('answers found: true, is_expired: true, data: null for an expired entry', async () => {
      const blob_id = store.putSync({
        data: { v: 1 },
        cached_at: '2020-01-01T00:00:00Z',
        ttl_minutes: 1,
        expires_at: '2020-01-01T00:01:00Z',
        cache_key: 'old',
      });
      expect(await worker.execute('/retrieve_cache', { blob_id })).toMatchObject({
        found: true,
        is_expired: true,
        data: null,
      });
    });

    it('expires a real entry by wall clock after its TTL (0.001 min = 60 ms)', async () => {
      const { blob_id, expires_at } = (await worker.execute('/cache_data', {
        key: 'short',
        data: { v: 1 },
        ttl_minutes: 0.001,
      })) as { blob_id: string; expires_at: string };
      await vi.waitUntil(() => Date.now() > Date.parse(expires_at), { timeout: 5000, interval: 5 });
      expect(await worker.execute('/retrieve_cache', { blob_id })).toMatchObject({
        found: true,
        is_expired: true,
        data: null,
      });
    });

    it('answers -32103 for a blob that is not a cache entry', async () => {
      const blob_id = store.putSync({ unrelated: true });
      const error = await worker.execute('/retrieve_cache', { blob_id }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RpcError);
      expect(error).toMatchObject({ code: -32103, data: { reason: 'not_a_cache_entry' } });
    });
  },
);

describe('built stepflow-pack-cache without a blob store (v0.11, no blobApiUrl)', () => {
  let worker: WorkerClient;

  beforeAll(async () => {
    worker = await startCache('http-subprocess', 'v0.11');
  }, 20_000);

  afterAll(async () => {
    await worker?.close();
  });

  it('fails cache_data with a clear error instead of hanging', async () => {
    const error = await worker
      .execute('/cache_data', { key: 'k', data: {} })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcError);
    expect((error as RpcError).code).toBe(-32008);
    expect((error as RpcError).message).toContain('blobApiUrl');
  });
});

describe('built stepflow-pack-cache with an unreachable Blob HTTP API (v0.11)', () => {
  let worker: WorkerClient;

  beforeAll(async () => {
    // Port 1 on loopback: nothing listens there, so every blob call is refused.
    worker = await startCache('stdio', 'v0.11', undefined, 'http://127.0.0.1:1/api/v1/blobs');
  }, 20_000);

  afterAll(async () => {
    await worker?.close();
  });

  it('answers -32102 (retryable) for cache_data and retrieve_cache', async () => {
    for (const [component, input] of [
      ['/cache_data', { key: 'k', data: {} }],
      ['/retrieve_cache', { blob_id: MISSING_ID }],
    ] as const) {
      const error = await worker.execute(component, input).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RpcError);
      expect(error).toMatchObject({
        code: -32102,
        data: { retryable: true, reason: 'blob_store_unreachable' },
      });
    }
  });
});
