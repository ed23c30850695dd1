import type { TestProject } from 'vitest/node';
// The provisioning script is plain ESM at the repository root (also run by hand / CI).
import { provisionStepflow } from '../../../scripts/provision-stepflow.mjs';
import { GENERATIONS, type Generation } from '../src/generation.js';

declare module 'vitest' {
  export interface ProvidedContext {
    stepflowBinaries: Record<Generation, string>;
  }
}

/** Download (first run) or find (cached) the real stepflow-server binaries. */
export default function setup(project: TestProject): void {
  const binaries = {} as Record<Generation, string>;
  for (const generation of GENERATIONS) binaries[generation] = provisionStepflow(generation);
  project.provide('stepflowBinaries', binaries);
}
