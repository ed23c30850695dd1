export interface TryIt {
  /** Package specs of the section's `npm install` line. */
  install: string[];
  /** The commands after it, one per line. */
  commands: string[];
}
export interface TryItResult {
  command: string;
  stdout: string;
  stderr: string;
}
export function readTryIt(readmePath: string): TryIt;
export function runTryIt(
  dir: string,
  commands: readonly string[],
  options?: { env?: Record<string, string>; timeoutMs?: number },
): Promise<TryItResult[]>;
export function splitInstall(specs: readonly string[]): { workspace: string[]; registry: string[] };
export function summarize(results: readonly TryItResult[]): {
  components?: { component_id: string; path: string }[];
  passed?: number;
  failed?: number;
};
export function shippedExamples(
  appDir: string,
  pack: string,
): { root: string; files: string[]; escaping: string[] };
