import type { Version } from '../flow/model.js';

/** The `stepflow-server` releases the server engine speaks to (their REST APIs differ). */
export type ServerRelease = '0.11.1' | '0.13.0';

export const SERVER_RELEASES: readonly ServerRelease[] = ['0.11.1', '0.13.0'];

/** The semantics a release has: 0.11.1 is the JSON-RPC generation, 0.13.0 the gRPC one. */
export function versionOfRelease(release: ServerRelease): Version {
  return release === '0.13.0' ? 'v0.13' : 'v0.11';
}
