#!/usr/bin/env node
/**
 * Data pack benchmark: filter_records on 10,000 records per call, over stdio, 4 calls in flight.
 *
 *   worker    stepflow-pack-data: own-property reads, per-record accounting, and `matches`
 *             on RE2 in a worker thread with a time budget
 *   baseline  a worker with the same component shape doing a plain Array.filter with native
 *             RegExp on the event loop (fast, but open to ReDoS and prototype tricks)
 *
 * Two predicates are measured: `eq` on a field, and `matches` with a benign pattern. Rounds
 * alternate between variants; the median of each is reported with the ratio worker/baseline.
 * Targets: eq ≥ 0.5× (own-property reads and full accounting); matches ≥ 0.35× — RE2 in
 * JavaScript matches about 10× slower per string than V8's backtracking engine, and the
 * strings travel to a worker thread; that is the price of linear time and a time budget.
 *
 *   node bench/data.mjs [--records 10000] [--calls 40] [--rounds 3]
 * Needs packages/core and packages/data built.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median, report, stdioDriver, throughput } from './lib.mjs';

const SELF = fileURLToPath(import.meta.url);
const DATA_BIN = fileURLToPath(new URL('../packages/data/dist/bin.js', import.meta.url));

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '10000' },
    calls: { type: 'string', default: '40' },
    rounds: { type: 'string', default: '3' },
    'baseline-worker': { type: 'boolean', default: false },
  },
});

if (values['baseline-worker']) {
  const { defineComponent, definePack, runCli, z } = await import('@stepflow-packs/core');
  const filterRecords = defineComponent({
    name: 'filter_records',
    description: 'naive baseline',
    input: z.object({ records: z.array(z.any()), where: z.array(z.any()) }).passthrough(),
    output: z.object({}).passthrough(),
    execute({ records, where }) {
      const [p] = where;
      const test =
        p.op === 'matches'
          ? (
              (re) => (v) =>
                re.test(v)
            )(new RegExp(p.value))
          : (v) => v === p.value;
      const kept = records.filter((r) => test(r[p.field]));
      return { records: kept, stats: { records_in: records.length, records_out: kept.length } };
    },
  });
  await runCli(definePack({ name: 'baseline', version: '0.0.0', components: [filterRecords] }), {
    argv: ['--transport', 'stdio'],
  });
} else {
  const n = Number(values.records);
  const calls = Number(values.calls);
  const rounds = Number(values.rounds);
  const records = Array.from({ length: n }, (_, i) => ({
    id: i,
    email: `user${i}@example.${i % 3 ? 'com' : 'org'}`,
    group: i % 10,
  }));
  const predicates = {
    eq: [{ field: 'group', op: 'eq', value: 3 }],
    matches: [{ field: 'email', op: 'matches', value: '@example\\.org$' }],
  };

  const variants = {
    worker: stdioDriver(process.execPath, [DATA_BIN, '--transport', 'stdio']),
    baseline: stdioDriver(process.execPath, [SELF, '--baseline-worker']),
  };
  const execute = (driver, where) =>
    driver
      .call('components/execute', { component: '/filter_records', input: { records, where } })
      .then((m) => {
        if (m.error) throw new Error(m.error.message);
        return m.result.output;
      });

  // Warm up and check both variants agree.
  for (const [name, where] of Object.entries(predicates)) {
    const [a, b] = await Promise.all([
      execute(variants.worker, where),
      execute(variants.baseline, where),
    ]);
    if (a.records.length !== b.records.length)
      throw new Error(`${name}: variants disagree (${a.records.length} vs ${b.records.length})`);
  }

  const rows = [];
  const targets = { eq: 0.5, matches: 0.35 };
  for (const [name, where] of Object.entries(predicates)) {
    const samples = { worker: [], baseline: [] };
    for (let r = 0; r < rounds; r++) {
      for (const variant of ['baseline', 'worker']) {
        samples[variant].push(await throughput(() => execute(variants[variant], where), calls, 4));
      }
    }
    rows.push({
      name: `filter_records ${name}, ${n} records/call`,
      subject: median(samples.worker),
      baseline: median(samples.baseline),
      unit: 'calls/s',
      target: targets[name],
    });
  }
  report('filter_records over stdio: data pack vs naive in-thread filter', rows);
  await Promise.all(Object.values(variants).map((d) => d.close()));
}
