import { connect, type ClientHttp2Session } from 'node:http2';

/**
 * An HTTP/2 client session to `baseUrl`, with a receive window of `windowBytes` (both the
 * streams' and the connection's) when given, instead of HTTP/2's 64 KiB. A worker busy with
 * CPU-bound components reads its sockets seldom; with 64 KiB, a multi-megabyte reply then
 * takes one round of the event loop per 64 KiB.
 */
export function connectH2(baseUrl: string, windowBytes?: number): ClientHttp2Session {
  if (windowBytes === undefined) return connect(baseUrl);
  const session = connect(baseUrl, { settings: { initialWindowSize: windowBytes } });
  session.once('connect', () => {
    try {
      session.setLocalWindowSize(windowBytes);
    } catch {
      // closing already
    }
  });
  return session;
}
