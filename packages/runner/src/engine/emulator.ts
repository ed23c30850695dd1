import { Environment, type EnvironmentOptions } from '../execute/environment.js';
import { toFlowResult } from '../execute/result.js';
import type { Flow } from '../flow/model.js';
import type { Json, JsonObject } from '../json/value.js';
import type { EngineRun, FlowEngine, WorkerStats } from './types.js';

/** The runner's own emulation of a release (`Environment`) behind the engine interface. */
export class EmulatorEngine implements FlowEngine {
  readonly kind = 'emulator' as const;
  private constructor(readonly environment: Environment) {}

  static async start(options: EnvironmentOptions): Promise<EmulatorEngine> {
    return new EmulatorEngine(await Environment.start(options));
  }

  get version() {
    return this.environment.version;
  }

  get label(): string {
    return `emulated Stepflow ${this.environment.version}`;
  }

  async run(flow: Flow, input: Json, variables?: JsonObject): Promise<EngineRun> {
    return { result: toFlowResult((await this.environment.run(flow, input, variables)).result) };
  }

  expectation(expected: Json): Json {
    return expected;
  }

  workerStats(): WorkerStats[] {
    return this.environment.workerStats().map(({ name, transport, restarts, junkLines }) => ({
      name,
      transport,
      restarts,
      junkLines,
    }));
  }

  close(): Promise<void> {
    return this.environment.close();
  }
}
