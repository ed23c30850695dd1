import sharp from 'sharp';
import { writeFileSync, mkdtempSync, realpathSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createTestKit } from '@stepflow-packs/core/testing';
import { imagePack } from './dist/index.js';
const dir = realpathSync(mkdtempSync(join(tmpdir(), 'micro-')));
mkdirSync(join(dir, 'a'));
mkdirSync(join(dir, 'o'));
mkdirSync(join(dir, 'r'));
const width = 1920,
  height = 1080;
const files = [];
for (let s = 0; s < 30; s++) {
  const raw = Buffer.alloc(width * height * 3);
  let state = ((s + 1) * 2654435761) >>> 0;
  for (let i = 0; i < raw.length; i++) {
    state = (state * 1664525 + 1013904223) >>> 0;
    raw[i] = ((i % 5760) / 23 + ((state >>> 24) & 31)) & 255;
  }
  const f = join(dir, 'a', `i${s}.jpg`);
  writeFileSync(
    f,
    await sharp(raw, { raw: { width, height, channels: 3 } })
      .jpeg({ quality: 90 })
      .toBuffer(),
  );
  files.push(f);
}
const kit = createTestKit(imagePack, { config: { roots: [dir] } });
const rawRun = async () => {
  for (const f of files)
    await sharp(f)
      .resize(640)
      .jpeg({ quality: 80 })
      .toFile(join(dir, 'r', 'x.jpg'));
};
const kitRun = () =>
  kit.execute('batch_process_images', {
    image_directory: join(dir, 'a'),
    output_directory: join(dir, 'o'),
    operations: [{ type: 'resize', parameters: { width: 640 } }],
    quality: 80,
    parallel_limit: 1,
    overwrite: true,
  });
const kitSingle = async () => {
  for (const f of files)
    await kit.execute('process_image', {
      image_path: f,
      operations: [{ type: 'resize', parameters: { width: 640 } }],
      quality: 80,
      output_path: join(dir, 'o', 'y.jpg'),
      overwrite: true,
    });
};
await kitRun();
await rawRun();
const res = { raw: [], batch: [], single: [] };
if (process.env.ONLY) {
  for (let i = 0; i < 5; i++) await kitRun();
  process.exit(0);
}
for (let r = 0; r < 3; r++) {
  for (const [name, fn] of [
    ['raw', rawRun],
    ['batch', kitRun],
    ['single', kitSingle],
  ]) {
    const c = process.cpuUsage();
    await fn();
    const d = process.cpuUsage(c);
    res[name].push(((d.user + d.system) / 1000 / files.length).toFixed(2));
  }
}
console.log(JSON.stringify(res));
