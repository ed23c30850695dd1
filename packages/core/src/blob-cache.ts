import type { BlobAccess } from './blobs.js';
import type { JsonValue } from './protocol.js';

type Entry = { kind: 'json'; text: string } | { kind: 'bytes'; bytes: Uint8Array };

/** Default bound of a worker's blob cache (`STEPFLOW_BLOB_CACHE_BYTES`). */
export const DEFAULT_BLOB_CACHE_BYTES = 32 * 1024 * 1024;

/**
 * Blobs already read or written by this worker, by id. Stepflow blob ids are the SHA-256 of the
 * content, so an id always names the same bytes and a cached copy never goes stale: a flow that
 * hands the same large input to many tasks (`{"$blob": id}`) costs the orchestrator one
 * transfer per worker instead of one per task. Least recently used entries go first; the total
 * stays under `maxBytes` and no entry is larger than a quarter of it. JSON blobs are kept as
 * text and parsed on every hit, so a component that mutates its input cannot change the cache.
 */
export class BlobCache {
  readonly #entries = new Map<string, Entry>();
  /** JSON reads under way, so tasks that ask for the same blob at once share one transfer. */
  readonly #reading = new Map<string, { value: Promise<JsonValue>; signal?: AbortSignal }>();
  #bytes = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes = DEFAULT_BLOB_CACHE_BYTES) {}

  get size(): number {
    return this.#bytes;
  }

  getJson(id: string): JsonValue | undefined {
    const entry = this.#take(id);
    return entry?.kind === 'json' ? (JSON.parse(entry.text) as JsonValue) : undefined;
  }

  /**
   * `id`'s JSON from the cache, or from `fetch`: one fetch however many callers ask for the same
   * id while it is under way, each of them getting its own copy. A caller whose shared fetch
   * failed only because the first caller's `signal` was aborted fetches again for itself.
   */
  async readJson(
    id: string,
    fetch: (signal?: AbortSignal) => Promise<JsonValue>,
    signal?: AbortSignal,
  ): Promise<JsonValue> {
    const hit = this.getJson(id);
    if (hit !== undefined) return hit;
    const shared = this.#reading.get(id);
    if (!shared) {
      const value = fetch(signal).then((v) => {
        this.putJson(id, v);
        return v;
      });
      const entry = signal ? { value, signal } : { value };
      this.#reading.set(id, entry);
      try {
        return await value;
      } finally {
        if (this.#reading.get(id) === entry) this.#reading.delete(id);
      }
    }
    let value: JsonValue;
    try {
      value = await shared.value;
    } catch (err) {
      if (shared.signal?.aborted && !signal?.aborted) {
        if (this.#reading.get(id) === shared) this.#reading.delete(id);
        return this.readJson(id, fetch, signal);
      }
      throw err;
    }
    // The first caller has the fetched object itself; the others must not share it.
    return this.getJson(id) ?? structuredClone(value);
  }

  getBytes(id: string): Uint8Array | undefined {
    const entry = this.#take(id);
    return entry?.kind === 'bytes' ? Uint8Array.from(entry.bytes) : undefined;
  }

  putJson(id: string, value: JsonValue): void {
    if (this.maxBytes <= 0) return;
    const text = JSON.stringify(value);
    // UTF-16 length is a cheap bound on memory use (a JS string takes 1–2 bytes a unit).
    this.#store(id, { kind: 'json', text }, text.length * 2);
  }

  putBytes(id: string, bytes: Uint8Array): void {
    if (this.maxBytes <= 0) return;
    // A copy (Buffer#slice would share memory with the caller's bytes).
    this.#store(id, { kind: 'bytes', bytes: Uint8Array.from(bytes) }, bytes.byteLength);
  }

  #take(id: string): Entry | undefined {
    const entry = this.#entries.get(id);
    if (!entry) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.#entries.delete(id);
    this.#entries.set(id, entry);
    return entry;
  }

  #store(id: string, entry: Entry, bytes: number): void {
    if (bytes > this.maxBytes / 4 || this.#entries.has(id)) return;
    this.#entries.set(id, entry);
    this.#bytes += bytes;
    for (const [oldest, old] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= old.kind === 'json' ? old.text.length * 2 : old.bytes.byteLength;
    }
  }
}

/** `access` with reads served from `cache` when it holds the id, and what passes through kept. */
export function cachedBlobs(access: BlobAccess, cache: BlobCache): BlobAccess {
  if (cache.maxBytes <= 0) return access;
  const cached: BlobAccess = {
    async put(data, type, signal) {
      const id = await access.put(data, type, signal);
      cache.putJson(id, data);
      return id;
    },
    get(id, signal) {
      return cache.readJson(id, (s) => access.get(id, s), signal);
    },
  };
  const { putBytes, getBytes } = access;
  if (putBytes)
    cached.putBytes = async (bytes, signal) => {
      const id = await putBytes.call(access, bytes, signal);
      cache.putBytes(id, bytes);
      return id;
    };
  if (getBytes)
    cached.getBytes = async (id, signal) => {
      const hit = cache.getBytes(id);
      if (hit !== undefined) return hit;
      const bytes = await getBytes.call(access, id, signal);
      cache.putBytes(id, bytes);
      return bytes;
    };
  return cached;
}
