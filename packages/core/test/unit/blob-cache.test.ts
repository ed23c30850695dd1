import { describe, expect, it } from 'vitest';
import {
  BlobCache,
  cachedBlobs,
  defineComponent,
  definePack,
  jsonObject,
  MemoryBlobStore,
  z,
  type JsonValue,
} from '../../src/index.js';
import { createTestKit } from '../../src/testing/index.js';

/** A blob store that counts the reads that reach it. */
class CountingStore extends MemoryBlobStore {
  reads = 0;
  override async get(id: string): Promise<JsonValue> {
    this.reads++;
    return super.get(id);
  }
}

const sortInPlace = defineComponent({
  name: 'sort_in_place',
  description: 'Sorts its records by n, in place (a component that mutates its input).',
  blobInputs: ['records'],
  input: z.strictObject({ records: z.array(jsonObject()) }),
  output: z.object({ first: z.unknown(), n: z.number() }),
  execute({ records }) {
    records.sort((a, b) => Number(a.n) - Number(b.n));
    records.push({ n: -1 });
    return { first: records[0] ?? null, n: records.length };
  },
});
const pack = definePack({ name: 'cachey', version: '0.0.0', components: [sortInPlace] });

describe('BlobCache', () => {
  it('serves a blob read twice from memory, and a mutated input never changes the cache', async () => {
    const store = new CountingStore();
    const kit = createTestKit(pack, { blobs: store });
    const id = await store.put([{ n: 3 }, { n: 1 }, { n: 2 }]);
    for (let i = 0; i < 3; i++)
      expect(await kit.execute('sort_in_place', { records: { $blob: id } })).toEqual({
        first: { n: 1 },
        n: 4,
      });
    expect(store.reads).toBe(1);
    expect(kit.dispatcher.blobCache.hits).toBe(2);
  });

  it('keeps what a component wrote, so reading it back costs no round trip', async () => {
    const store = new CountingStore();
    const access = cachedBlobs(store, new BlobCache(1024 * 1024));
    const data = { a: [1, 2, 3] };
    const id = await access.put(data, 'data');
    data.a.push(4); // the caller's object changes after the put; the blob does not
    expect(await access.get(id)).toEqual({ a: [1, 2, 3] });
    expect(store.reads).toBe(0);
  });

  it('stays within its bound, evicting the least recently used blob first', async () => {
    const store = new CountingStore();
    // Each blob is 1,000 bytes as UTF-16 (two bytes a unit); the cache holds four.
    const cache = new BlobCache(4500);
    const access = cachedBlobs(store, cache);
    const ids = await Promise.all(
      ['a', 'b', 'c', 'd', 'e'].map((c) => store.put(c.repeat(500 - 2), 'data')),
    );
    for (const id of ids.slice(0, 4)) await access.get(id);
    await access.get(ids[0]!); // a is now the most recent
    await access.get(ids[4]!); // evicts b
    expect(cache.size).toBeLessThanOrEqual(4500);
    store.reads = 0;
    for (const i of [0, 2, 3, 4]) await access.get(ids[i]!);
    expect(store.reads).toBe(0);
    await access.get(ids[1]!);
    expect(store.reads).toBe(1);
  });

  it('does not keep a blob larger than a quarter of the bound, and 0 turns caching off', async () => {
    const store = new CountingStore();
    const big = await store.put('x'.repeat(10_000), 'data');
    const small = cachedBlobs(store, new BlobCache(16 * 1024));
    await small.get(big);
    await small.get(big);
    expect(store.reads).toBe(2);
    const off = cachedBlobs(store, new BlobCache(0));
    expect(off).toBe(store);
  });

  it('caches binary blobs as copies', async () => {
    const store = new MemoryBlobStore();
    const id = store.putBinary(Buffer.from([1, 2, 3]));
    const access = cachedBlobs(store, new BlobCache(1024));
    const first = await access.getBytes!(id);
    first[0] = 9;
    expect([...(await access.getBytes!(id))]).toEqual([1, 2, 3]);
  });
});

describe('BlobCache: reads under way', () => {
  /** A store whose reads wait until released, counting those that reach it. */
  class SlowStore extends CountingStore {
    #release: (() => void) | undefined;
    readonly #gate = new Promise<void>((resolve) => (this.#release = resolve));
    release() {
      this.#release!();
    }
    override async get(id: string, signal?: AbortSignal): Promise<JsonValue> {
      this.reads++;
      await Promise.race([
        this.#gate,
        new Promise((_, reject) =>
          signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true }),
        ),
      ]);
      return MemoryBlobStore.prototype.get.call(this, id);
    }
  }

  it('tasks asking for the same blob at once share one read, each with its own copy', async () => {
    for (const maxBytes of [1024 * 1024, 64]) {
      // 64 bytes: too small to keep the blob, so the copies cannot come from the cache
      const store = new SlowStore();
      const access = cachedBlobs(store, new BlobCache(maxBytes));
      const id = await store.put({ records: [{ n: 1 }, { n: 2 }] });
      const reads = Array.from({ length: 5 }, () => access.get(id));
      store.release();
      const values = (await Promise.all(reads)) as { records: { n: number }[] }[];
      expect(store.reads).toBe(1);
      values[0]!.records.push({ n: 3 });
      for (const v of values.slice(1)) expect(v).toEqual({ records: [{ n: 1 }, { n: 2 }] });
      expect(new Set(values).size).toBe(5);
    }
  });

  it('a read that failed because the first caller was aborted is retried for the others', async () => {
    const store = new SlowStore();
    const access = cachedBlobs(store, new BlobCache(1024 * 1024));
    const id = await store.put([1, 2, 3]);
    const first = new AbortController();
    const aborted = access.get(id, first.signal);
    const other = access.get(id);
    first.abort(new Error('task cancelled'));
    await expect(aborted).rejects.toThrow('task cancelled');
    store.release();
    expect(await other).toEqual([1, 2, 3]);
    expect(store.reads).toBe(2);
  });

  it('a failed read is not kept: the next read tries again', async () => {
    const store = new CountingStore();
    const access = cachedBlobs(store, new BlobCache(1024 * 1024));
    const missing = 'f'.repeat(64);
    await expect(Promise.all([access.get(missing), access.get(missing)])).rejects.toThrow();
    expect(store.reads).toBe(1);
    await expect(access.get(missing)).rejects.toThrow();
    expect(store.reads).toBe(2);
  });
});
