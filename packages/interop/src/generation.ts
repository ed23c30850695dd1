import { SERVER_RELEASES, type ServerRelease } from '@stepflow-packs/runner';

/** The real Stepflow orchestrator releases the interop suite runs against. */
export type Generation = ServerRelease;

export const GENERATIONS: readonly Generation[] = SERVER_RELEASES;

/** Config file of a workflows/<pack> folder for a generation. */
export function configFileName(generation: Generation): string {
  return generation === '0.13.0' ? 'stepflow-config.v0.13.yml' : 'stepflow-config.yml';
}
