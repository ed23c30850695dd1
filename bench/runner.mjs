// Local runner overhead: flows of 100 math steps run by @stepflow-packs/runner against the math
// worker over stdio, side by side with the same calls made directly through core/client.
//   per-step overhead (chain)  = runner wall per step - direct sequential call time
//   independent steps          = runner wall vs the same 100 calls issued concurrently
//   overlap                    = 100 independent 20 ms steps vs 100 × 20 ms
import { startWorker } from '@stepflow-packs/core/client';
import { Environment, parseConfig, parseFlow } from '@stepflow-packs/runner';
import { median, report, root } from './lib.mjs';

const MATH = `${root}packages/math/dist/bin.js`;
const TRACKER = `${root}packages/runner/test/fixtures/tracker/worker.mjs`;
const ROUNDS = 15;

const config = parseConfig(
  {
    plugins: {
      math: {
        type: 'stepflow',
        transport: 'stdio',
        command: process.execPath,
        args: [MATH, '--transport', 'stdio'],
        env: { STEPFLOW_LOG_LEVEL: 'warn' },
      },
      tracker: {
        type: 'stepflow',
        transport: 'stdio',
        command: process.execPath,
        args: [TRACKER, '--transport', 'stdio'],
        env: { STEPFLOW_LOG_LEVEL: 'warn' },
      },
    },
    routes: {
      '/math/{component}': [{ plugin: 'math' }],
      '/tracker/{component}': [{ plugin: 'tracker' }],
    },
  },
  { source: 'bench', file: undefined, baseDir: root },
);

const flow = (doc) =>
  parseFlow({ schema: 'https://stepflow.org/schemas/v1/flow.json', ...doc }, { version: 'v0.8' })
    .flow;
const chain = flow({
  steps: Array.from({ length: 100 }, (_, i) => ({
    id: `s${i}`,
    component: '/math/add',
    input: { a: i === 0 ? { $input: 'start' } : { $step: `s${i - 1}`, path: 'sum' }, b: 1 },
  })),
  output: { $step: 's99', path: 'sum' },
});
const independent = flow({
  steps: Array.from({ length: 100 }, (_, i) => ({
    id: `s${i}`,
    component: '/math/add',
    input: { a: i, b: { $input: 'start' } },
  })),
  output: Array.from({ length: 100 }, (_, i) => ({ $step: `s${i}`, path: 'sum' })),
});
const sleepers = flow({
  steps: Array.from({ length: 100 }, (_, i) => ({
    id: `s${i}`,
    component: '/tracker/record',
    input: { file: '/dev/null', step: `s${i}`, sleepMs: 20 },
  })),
  output: Array.from({ length: 100 }, (_, i) => ({ $step: `s${i}`, path: 'step' })),
});

const env = await Environment.start({ version: 'v0.8', config });
const direct = await startWorker(
  {
    transport: 'stdio',
    command: process.execPath,
    args: [MATH, '--transport', 'stdio'],
    env: { STEPFLOW_LOG_LEVEL: 'warn' },
  },
  { dialect: 'v0.8' },
);

async function timed(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}
async function runFlow(f) {
  const { result } = await env.run(f, { start: 1 });
  if (result.outcome !== 'success') throw new Error(`bench flow failed: ${JSON.stringify(result)}`);
}

// Warm up both paths (JIT, worker start-up).
for (let i = 0; i < 3; i++) {
  await runFlow(chain);
  await runFlow(independent);
  for (let j = 0; j < 100; j++) await direct.execute('/add', { a: j, b: 1 });
}

const chainMs = [];
const directSequentialMs = [];
const independentMs = [];
const directConcurrentMs = [];
const sleepersMs = [];
for (let round = 0; round < ROUNDS; round++) {
  // Alternate which side goes first so neither always runs on a warmer or colder machine.
  const pairs = [
    [
      async () =>
        directSequentialMs.push(
          await timed(async () => {
            let sum = 1;
            for (let i = 0; i < 100; i++)
              sum = (await direct.execute('/add', { a: sum, b: 1 })).sum;
          }),
        ),
      async () => chainMs.push(await timed(() => runFlow(chain))),
    ],
    [
      async () =>
        directConcurrentMs.push(
          await timed(() =>
            Promise.all(
              Array.from({ length: 100 }, (_, i) => direct.execute('/add', { a: i, b: 1 })),
            ),
          ),
        ),
      async () => independentMs.push(await timed(() => runFlow(independent))),
    ],
  ];
  for (const [directSide, runnerSide] of pairs) {
    if (round % 2 === 0) {
      await directSide();
      await runnerSide();
    } else {
      await runnerSide();
      await directSide();
    }
  }
  if (round < 5) sleepersMs.push(await timed(() => runFlow(sleepers)));
}
await direct.close();
await env.close();

const perStepRunner = median(chainMs) / 100;
const perStepDirect = median(directSequentialMs) / 100;
const overhead = perStepRunner - perStepDirect;
const overlapWall = median(sleepersMs);
report('runner: 100-step flows against the math worker (stdio, v0.8 semantics)', [
  {
    name: '100-step chain, per step (runner vs direct client call)',
    subject: perStepRunner * 1000,
    baseline: perStepDirect * 1000,
    unit: 'µs',
    ratio: perStepDirect / perStepRunner,
    targetText: 'overhead ≤ 1 ms',
    pass: overhead <= 1,
  },
  {
    name: '→ runner overhead per step (median)',
    subject: overhead * 1000,
    unit: 'µs',
    targetText: '≤ 1000 µs',
    pass: overhead <= 1,
  },
  {
    name: '100 independent steps, wall (runner vs 100 concurrent client calls)',
    subject: median(independentMs),
    baseline: median(directConcurrentMs),
    unit: 'ms',
    ratio: median(directConcurrentMs) / median(independentMs),
  },
  {
    name: '100 independent 20 ms steps, wall vs 100 × 20 ms serial',
    subject: overlapWall,
    baseline: 2000,
    unit: 'ms',
    ratio: 2000 / overlapWall,
    targetText: '≥ 4× (overlap)',
    pass: 2000 / overlapWall >= 4,
  },
]);
