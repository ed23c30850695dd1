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
 * Usage: node bench/image.mjs [--rounds 4] [--images 60]
 */
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startWorker } from '@stepflow-packs/core/client';
import sharp from 'sharp';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '4' }, images: { type: 'string', default: '60' } },
});
const ROUNDS = Number(values.rounds);
const IMAGES = Number(values.images);
const BIN = fileURLToPath(new URL('../packages/image/dist/bin.js', import.meta.url));

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

/** CPU seconds used so far by this process plus the worker process (utime + stime). */
function cpuSeconds() {
  const own = process.cpuUsage();
  const stat = readFileSync(`/proc/${worker.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  return (own.user + own.system) / 1e6 + ticks / 100;
}

/**
 * Sum over ROUNDS × (A B B A) blocks; returns images/s (wall) per side, and CPU seconds per
 * image (this process + the worker; the raw side runs in this process) — a load-independent
 * measure of the work each side does.
 */
async function abba(runRaw, runWorker) {
  const wall = { raw: 0, worker: 0 };
  const cpu = { raw: 0, worker: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of ['raw', 'worker', 'worker', 'raw']) {
      const cpuBefore = cpuSeconds();
      const started = performance.now();
      const images = await (side === 'raw' ? runRaw() : runWorker());
      wall[side] += (performance.now() - started) / images;
      cpu[side] += (cpuSeconds() - cpuBefore) / images;
    }
  }
  const blocks = 2 * ROUNDS;
  return {
    raw: 1000 / (wall.raw / blocks),
    worker: 1000 / (wall.worker / blocks),
    cpuRatio: cpu.raw / cpu.worker,
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
const loadAverage = (await import('node:os')).loadavg()[0];

const workerMemory = rssOf(worker.pid);
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
  `1-minute load average at the end: ${loadAverage.toFixed(2)} on ${(await import('node:os')).availableParallelism()} CPUs (other load skews the wall-clock ratios).`,
);
console.log(
  `peak RSS: worker ${workerMemory.peak.toFixed(1)} MB (now ${workerMemory.rss.toFixed(1)} MB); bench process (raw sharp side) ${benchPeak.toFixed(1)} MB`,
);
console.log(
  JSON.stringify({
    bench: 'image',
    rows,
    loadAverage,
    peakRssMb: { worker: workerMemory.peak, bench: benchPeak },
  }),
);
process.exitCode = rows.every((r) => r.pass) ? 0 : 1;
