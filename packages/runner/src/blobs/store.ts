import {
  blobIdOf,
  BlobNotFoundError,
  MemoryBlobStore,
  type StoredBlob,
} from '@stepflow-packs/core/client';
import { canonicalJson } from '../json/canonical.js';
import type { Json } from '../json/value.js';

export type BlobType = 'data' | 'flow' | 'binary';

/**
 * The run's content-addressed blob store. Ids are the SHA-256 of the runtime's own compact
 * serialization, so ids pinned in upstream fixtures come out identical.
 * Builtins, v0.8 `blobs/*` callbacks and the v0.11 Blob HTTP API all share one instance.
 * Values are immutable in the runner, so they are stored without copying (which also keeps
 * the key-order and float annotations of `canonicalJson`).
 */
export class RunnerBlobStore extends MemoryBlobStore {
  readonly #blobs = new Map<string, StoredBlob>();

  constructor() {
    super({ serialize: (data) => canonicalJson(data as Json) });
  }

  override putSync(data: unknown, type: BlobType = 'data', float = false): string {
    const id = blobIdOf(canonicalJson(data as Json, { float }));
    if (!this.#blobs.has(id)) this.#blobs.set(id, { data: data as StoredBlob['data'], type });
    return id;
  }

  override async put(data: unknown, type: 'data' | 'flow' = 'data'): Promise<string> {
    return this.putSync(data, type);
  }

  override putBinary(bytes: Buffer): string {
    const id = blobIdOf(bytes);
    if (!this.#blobs.has(id))
      this.#blobs.set(id, { data: null, type: 'binary', bytes: Buffer.from(bytes) });
    return id;
  }

  override async get(id: string): Promise<StoredBlob['data']> {
    const blob = this.#blobs.get(id);
    if (!blob) throw new BlobNotFoundError(id);
    return blob.data;
  }

  override lookup(id: string): StoredBlob | undefined {
    return this.#blobs.get(id);
  }

  override get size(): number {
    return this.#blobs.size;
  }
}
