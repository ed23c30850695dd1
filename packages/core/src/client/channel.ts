/** A request/response link to one worker, independent of the transport. */
export interface Channel {
  /** Throws RpcError for a JSON-RPC error answer, TransportError (-32300…) for link failures. */
  request(
    method: string,
    params: Record<string, unknown>,
    options: RequestOptions,
  ): Promise<unknown>;
  notify(method: string, params: Record<string, unknown>): Promise<void>;
  close(): void;
}

export interface RequestOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Observes every frame crossing the link (tests validate them against the official schemas). */
export type FrameTap = (direction: 'sent' | 'received', frame: string) => void;
