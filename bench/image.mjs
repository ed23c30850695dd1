#!/usr/bin/env node
/**
 * Image pack benchmark: process_image / batch_process_images through the built worker (stdio,
 * real pipes) against the same sharp pipeline called directly, in one run.
 *
 *   1920×1080 JPEG → resize to 640 px wide → JPEG q80
 *   - one at a time (sequential)            target ≥ 0.9× raw sharp
 *   - 4 concurrent                           target ≥ 0.9× raw sharp with 4 concurrent
 *   - batch of 60 with parallel_limit 4      target ≥ 0.9× raw sharp with 4 concurrent
 *
 * Prerequisite: `cd packages/image && npx tsc -p tsconfig.build.json` (dist/bin.js).
 * Usage: node bench/image.mjs [--rounds 4] [--images 60] [--max-other-cpus 0.2]
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startWorker } from '@stepflow-packs/core/client';
import sharp from 'sharp';
import { machineCpu, processCpu } from './lib.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '4' },
    images: { type: 'string', default: '60' },
    'max-other-cpus': { type: 'string', default: '0.2' },
  },
});
const ROUNDS = Number(values.rounds);
const IMAGES = Number(values.images);
const MAX_OTHER_CPUS = Number(values['max-other-cpus']);
const BIN =
  process.env.BENCH_IMAGE_BIN ??
  fileURLToPath(new URL('../packages/image/dist/bin.js', import.meta.url));

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'stepflow-image-bench-')));
const album = join(dir, 'album');
const outRaw = join(dir, 'out-raw');
const outWorker = join(dir, 'out-worker');
for (const d of [album, outRaw, outWorker]) mkdirSync(d);

/** A deterministic photo-like 1920×1080 frame: gradients plus texture, so JPEG has real work to do. */
async function photo(seed) {
  const width = 1920;
  const height = 1080;
  const raw = Buffer.alloc(width * height * 3);
  let state = (seed * 2654435761) >>> 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      state = (state * 1664525 + 1013904223) >>> 0;
      const noise = (state >>> 24) & 31;
      const i = (y * width + x) * 3;
      raw[i] = ((x * 255) / width + noise) & 255;
      raw[i + 1] = ((y * 255) / height + ((x >> 5) & 1) * 40 + noise) & 255;
      raw[i + 2] = ((((x + y) >> 4) & 1) * 120 + noise + seed * 13) & 255;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

const single = join(dir, 'photo.jpg');
writeFileSync(single, await photo(0));
for (let i = 0; i < IMAGES; i++)
  writeFileSync(join(album, `img-${String(i).padStart(3, '0')}.jpg`), await photo(i + 1));
const files = Array.from({ length: IMAGES }, (_, i) =>
  join(album, `img-${String(i).padStart(3, '0')}.jpg`),
);
const inputBytes = readFileSync(single).length;

const worker = await startWorker(
  {
    transport: 'stdio',
    command: process.execPath,
    args: [
      BIN,
      '--transport',
      'stdio',
      '--root',
      dir,
      ...(process.env.BENCH_WORKER_ARGS ?? '').split(' ').filter(Boolean),
    ],
    env: { PATH: process.env.PATH ?? '', STEPFLOW_LOG_LEVEL: 'warn' },
  },
  { dialect: 'v0.11', requestTimeoutMs: 120_000 },
);

function rssOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

const raw = (input, output) => sharp(input).resize(640).jpeg({ quality: 80 }).toFile(output);
const viaWorker = (input, output) =>
  worker.execute('/process_image', {
    image_path: input,
    operations: [{ type: 'resize', parameters: { width: 640 } }],
    output_format: 'jpeg',
    quality: 80,
    output_path: output,
    overwrite: true,
  });

/** Run `count` jobs with at most `concurrency` in flight; returns images per second. */
async function throughput(job, count, concurrency, outDir) {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        await job(files[i % files.length], join(outDir, `o-${i % 8}.jpg`));
      }
    }),
  );
  return (count * 1000) / (performance.now() - started);
}

async function batchThroughput() {
  const started = performance.now();
  const result = await worker.execute('/batch_process_images', {
    image_directory: album,
    output_directory: outWorker,
    operations: [{ type: 'resize', parameters: { width: 640 } }],
    output_format: 'jpeg',
    quality: 80,
    parallel_limit: 4,
    overwrite: true,
  });
  if (result.processed_images !== IMAGES)
    throw new Error(`batch processed ${result.processed_images}/${IMAGES}`);
  return (IMAGES * 1000) / (performance.now() - started);
}

async function rawBatchThroughput() {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < files.length) {
        const file = files[next++];
        await raw(
          file,
          join(outRaw, file.slice(album.length + 1).replace('.jpg', '_processed.jpeg')),
        );
      }
    }),
  );
  return (IMAGES * 1000) / (performance.now() - started);
}

// Same output from both paths (sanity): dimensions and format.
await raw(single, join(outRaw, 'check.jpg'));
await viaWorker(single, join(outWorker, 'check.jpg'));
for (const file of [join(outRaw, 'check.jpg'), join(outWorker, 'check.jpg')]) {
  const m = await sharp(file).metadata();
  if (m.width !== 640 || m.height !== 360 || m.format !== 'jpeg')
    throw new Error(`unexpected output ${file}: ${m.width}x${m.height} ${m.format}`);
}

// Each mode cycles through the 60 distinct files (as a real workload would), so libvips'
// operation cache, which the raw side keeps enabled, cannot replay a previous decode.
// Blocks alternate A B B A between raw and worker and their times are summed, so drift and
// bursts from other processes on a shared machine fall on both sides alike.
await throughput(raw, 10, 1, outRaw);
await throughput(viaWorker, 10, 1, outWorker);

/** The worker and its child processes (the image pack runs pipelines in job processes). */
function workerTree() {
  const pids = [worker.pid];
  for (const entry of readdirSync('/proc')) {
    if (/^\d+$/.test(entry) && processCpu(entry)?.ppid === worker.pid) pids.push(Number(entry));
  }
  return pids;
}

/** CPU seconds used so far by this process plus the worker's process tree (utime + stime). */
function cpuSeconds() {
  const own = process.cpuUsage();
  const seconds = workerTree().reduce((sum, pid) => sum + (processCpu(pid)?.seconds ?? 0), 0);
  return (own.user + own.system) / 1e6 + seconds;
}

const machineCpuSeconds = () => machineCpu().busy;

/**
 * ROUNDS quartets of (A B B A) blocks, summed; returns images/s (wall) per side, and CPU seconds
 * per image (this process + the worker; the raw side runs in this process) — a
 * load-independent measure of the work each side does.
 *
 * Other processes skew the wall clock against the worker: under contention the scheduler
 * shares the CPUs per thread, and raw sharp runs 4 jobs where the worker runs at most
 * CPU-count. So a quartet during which other processes kept more than MAX_OTHER_CPUS busy is
 * measured again (up to 4 × ROUNDS quartets in all); if the machine never gets quiet enough,
 * the quietest quartets are used and the row is flagged.
 */
async function abba(runRaw, runWorker) {
  const quiet = [];
  const noisy = [];
  for (let attempt = 0; quiet.length < ROUNDS && attempt < 4 * ROUNDS; attempt++) {
    const quartet = { wall: { raw: 0, worker: 0 }, cpu: { raw: 0, worker: 0 }, other: 0 };
    const machineBefore = machineCpuSeconds();
    const ownBefore = cpuSeconds();
    const quartetStarted = performance.now();
    for (const side of ['raw', 'worker', 'worker', 'raw']) {
      const cpuBefore = cpuSeconds();
      const started = performance.now();
      const images = await (side === 'raw' ? runRaw() : runWorker());
      quartet.wall[side] += (performance.now() - started) / images;
      quartet.cpu[side] += (cpuSeconds() - cpuBefore) / images;
    }
    quartet.other = Math.max(
      0,
      (machineCpuSeconds() - machineBefore - (cpuSeconds() - ownBefore)) /
        ((performance.now() - quartetStarted) / 1000),
    );
    (quartet.other <= MAX_OTHER_CPUS ? quiet : noisy).push(quartet);
  }
  const used = [
    ...quiet,
    ...noisy.sort((a, b) => a.other - b.other).slice(0, ROUNDS - quiet.length),
  ];
  const sum = (pick) => used.reduce((total, q) => total + pick(q), 0);
  return {
    raw: 1000 / (sum((q) => q.wall.raw) / (2 * used.length)),
    worker: 1000 / (sum((q) => q.wall.worker) / (2 * used.length)),
    cpuRatio: sum((q) => q.cpu.raw) / sum((q) => q.cpu.worker),
    other: sum((q) => q.other) / used.length,
    quartets: `${quiet.length}/${quiet.length + noisy.length}`,
    quiet: quiet.length === used.length,
  };
}

const block = (job, count, concurrency, outDir) => async () => {
  await throughput(job, count, concurrency, outDir);
  return count;
};
const seq = await abba(block(raw, 20, 1, outRaw), block(viaWorker, 20, 1, outWorker));
const conc = await abba(block(raw, 40, 4, outRaw), block(viaWorker, 40, 4, outWorker));
const batch = await abba(
  async () => {
    await rawBatchThroughput();
    return IMAGES;
  },
  async () => {
    await batchThroughput();
    return IMAGES;
  },
);
const workerMemory = workerTree()
  .map(rssOf)
  .reduce((a, b) => ({ rss: a.rss + b.rss, peak: a.peak + b.peak, processes: a.processes + 1 }), {
    rss: 0,
    peak: 0,
    processes: 0,
  });
const benchPeak = process.resourceUsage().maxRSS / 1024;
await worker.close();
rmSync(dir, { recursive: true, force: true });

const row = (name, result) => {
  const ratio = result.worker / result.raw;
  return {
    name,
    worker: `${result.worker.toFixed(1)} img/s`,
    raw: `${result.raw.toFixed(1)} img/s`,
    ratio: Number(ratio.toFixed(3)),
    target: '≥ 0.9',
    pass: ratio >= 0.9,
    'cpu ratio': Number(result.cpuRatio.toFixed(3)),
    'other CPUs': Number(result.other.toFixed(2)),
    'quiet quartets': result.quartets,
  };
};
const rows = [
  row('process_image, one at a time', seq),
  row('process_image, 4 concurrent', conc),
  row(`batch_process_images ${IMAGES} images, parallel_limit 4`, batch),
];
console.log(
  `image bench: 1920×1080 JPEG (${(inputBytes / 1024).toFixed(0)} KiB) → resize 640 wide → JPEG q80; ${ROUNDS} rounds of A-B-B-A blocks`,
);
console.table(rows);
console.log(
  'ratio = worker img/s ÷ raw img/s (wall clock); cpu ratio = raw CPU s/img ÷ worker CPU s/img (client + worker).',
);
console.log(
  `other CPUs = CPUs kept busy by other processes during the quartets used (of ${(await import('node:os')).availableParallelism()}); quiet quartets = quartets with other CPUs ≤ ${MAX_OTHER_CPUS} / quartets run.`,
);
const noisyRows = rows.filter((r, i) => ![seq, conc, batch][i].quiet);
if (noisyRows.length > 0)
  console.log(
    `WARNING: the machine was not quiet enough for ${noisyRows.map((r) => `"${r.name}"`).join(', ')}: its wall-clock ratios are unreliable (the quietest quartets were used).`,
  );
console.log(
  `peak RSS: worker and its ${workerMemory.processes - 1} job processes ${workerMemory.peak.toFixed(1)} MB (now ${workerMemory.rss.toFixed(1)} MB); bench process (raw sharp side) ${benchPeak.toFixed(1)} MB`,
);
console.log(
  JSON.stringify({
    bench: 'image',
    rows,
    maxOtherCpus: MAX_OTHER_CPUS,
    peakRssMb: { worker: workerMemory.peak, bench: benchPeak },
  }),
);
process.exitCode = rows.every((r) => r.pass) ? 0 : 1;
