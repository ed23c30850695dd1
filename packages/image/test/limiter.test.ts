import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Semaphore, sharpJobs } from '../src/engine.js';
import { kit, quadrants, tempDir } from './helpers.js';

/** A promise plus its resolve function, to hold a slot for as long as a test wants. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('the sharp job limiter', () => {
  it('never runs more than its limit at once and serves waiters in arrival order', async () => {
    const limiter = new Semaphore(2);
    const gates = Array.from({ length: 6 }, gate);
    const started: number[] = [];
    let running = 0;
    let most = 0;
    const runs = gates.map((g, i) =>
      limiter.run(async () => {
        started.push(i);
        most = Math.max(most, ++running);
        await g.promise;
        running--;
        return i;
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1]);
    expect(limiter.active).toBe(2);
    // Finishing job 1 hands its slot to job 2, then job 0's to job 3, …
    gates[1]!.open();
    await new Promise((resolve) => setImmediate(resolve));
    gates[0]!.open();
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1, 2, 3]);
    for (const g of gates) g.open();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(most).toBe(2);
    expect(limiter.peak).toBe(2);
    expect(limiter.active).toBe(0);
  });

  it('releases the slot of a job that throws', async () => {
    const limiter = new Semaphore(1);
    await expect(limiter.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(limiter.active).toBe(0);
    expect(await limiter.run(() => Promise.resolve('next'))).toBe('next');
    expect(limiter.active).toBe(0);
  });
});

describe('what takes a slot', () => {
  let root: string;
  let cleanup: () => void;

  beforeAll(() => {
    ({ dir: root, cleanup } = tempDir());
  });
  afterAll(() => cleanup());

  it('a libvips header read (PNG, no fast path) waits while every slot is taken', async () => {
    const path = join(root, 'header.png');
    writeFileSync(path, await quadrants(40, 20, 'png'));
    const k = kit({ roots: [root], concurrency: 1 });
    const held = gate();
    const holder = sharpJobs(1).run(() => held.promise);
    let answered = false;
    const metadata = k.execute('image_metadata', { image_path: path }).then((out) => {
      answered = true;
      return out;
    });
    try {
      await vi.waitUntil(() => sharpJobs(1).waiting === 1, { timeout: 5000 });
      expect(answered).toBe(false);
    } finally {
      held.open();
      await holder;
    }
    expect(await metadata).toMatchObject({ format: 'png', width: 40, height: 20 });
  });

  it('a pipeline waits for a slot and gives it back when done', async () => {
    const path = join(root, 'in.png');
    writeFileSync(path, await quadrants(40, 20, 'png'));
    const k = kit({ roots: [root], concurrency: 1 });
    const limiter = sharpJobs(1);
    const held = gate();
    const holder = limiter.run(() => held.promise);
    const done = k.execute<{ output_path: string }>('process_image', {
      image_path: path,
      operations: [{ type: 'flip' }],
      output_format: 'png',
      output_path: join(root, 'out.png'),
    });
    try {
      await vi.waitUntil(() => limiter.waiting === 1, { timeout: 5000 });
      expect(limiter.active).toBe(1);
      expect(existsSync(join(root, 'out.png'))).toBe(false);
    } finally {
      held.open();
      await holder;
    }
    const out = await done;
    expect(out.output_path).toBe(join(root, 'out.png'));
    expect(limiter.active).toBe(0);
  });
});
