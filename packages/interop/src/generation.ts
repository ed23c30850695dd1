/** The real Stepflow orchestrator releases the interop suite runs against. */
export type Generation = '0.11.1' | '0.13.0';

export const GENERATIONS: readonly Generation[] = ['0.11.1', '0.13.0'];

/** Config file of a workflows/<pack> folder for a generation. */
export function configFileName(generation: Generation): string {
  return generation === '0.13.0' ? 'stepflow-config.v0.13.yml' : 'stepflow-config.yml';
}
