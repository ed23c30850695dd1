import { describe, expect, it } from 'vitest';
import { configureSharp, readHeader } from '../src/engine.js';
import { operation, type Operation } from '../src/operations.js';
import {
  planStages,
  prepareWatermark,
  runPipeline,
  type PipelineRequest,
  type Watermark,
} from '../src/pipeline.js';
import { settings, type ImageSettings } from '../src/settings.js';
import { settingsFromValues } from '@stepflow-packs/core';
import { BLUE, decode, quadrants, solid } from './helpers.js';

const config = settingsFromValues(settings, {}) as ImageSettings;
const ops = (list: unknown[]): Operation[] => list.map((item) => operation.parse(item));

let watermarks = new Map<number, Watermark>();

async function render(data: Buffer, list: Operation[], fuse: boolean) {
  configureSharp(config.allowedInputFormats, config.threadsPerJob);
  const header = await readHeader(data, config, 'test');
  const request: PipelineRequest = {
    source: data,
    operations: list,
    format: 'png',
    quality: 85,
    autoOrient: true,
    start: { width: header.width, height: header.height, exact: true },
    watermarks,
    fuse,
  };
  return decode((await runPipeline(request, config)).data);
}

/** Maximum per-channel difference between two decoded images of the same size. */
async function maxDifference(data: Buffer, list: Operation[]): Promise<number> {
  const fused = await render(data, list, true);
  const separate = await render(data, list, false);
  expect([fused.width, fused.height]).toEqual([separate.width, separate.height]);
  let max = 0;
  for (let y = 0; y < fused.height; y += 3) {
    for (let x = 0; x < fused.width; x += 3) {
      const a = fused.pixel(x, y);
      const b = separate.pixel(x, y);
      for (let c = 0; c < Math.min(a.length, b.length); c++)
        max = Math.max(max, Math.abs(a[c]! - b[c]!));
    }
  }
  return max;
}

describe('stage planning (operations fused into one sharp pipeline only where order is preserved)', () => {
  it('fuses crop → resize → extend → blur → sharpen → composite into one stage', () => {
    const list = ops([
      { type: 'crop', parameters: { width: 10, height: 10 } },
      { type: 'resize', parameters: { width: 5 } },
      { type: 'extend', parameters: { top: 1 } },
      { type: 'blur' },
      { type: 'sharpen' },
      { type: 'composite', parameters: { image_path: 'w.png' } },
    ]);
    expect(planStages(list).length).toBe(1);
  });

  it('splits when an operation would run earlier in sharp than requested', () => {
    const list = ops([
      { type: 'blur' },
      { type: 'resize', parameters: { width: 5 } },
      { type: 'rotate' },
      { type: 'flip' },
      { type: 'blur' },
      { type: 'grayscale' },
    ]);
    expect(planStages(list).map((s) => s.map((o) => o.type))).toEqual([
      ['blur'],
      ['resize'],
      ['rotate'],
      ['flip'],
      ['blur'],
      ['grayscale'],
    ]);
  });

  it('a fused chain renders the same pixels as applying each operation separately', async () => {
    const data = await quadrants(240, 120);
    const chains = [
      [
        { type: 'crop', parameters: { left: 20, top: 10, width: 200, height: 100 } },
        { type: 'resize', parameters: { width: 100, height: 80 } },
        { type: 'extend', parameters: { top: 5, left: 7, background: '#00ff00' } },
        { type: 'blur', parameters: { sigma: 1.5 } },
        { type: 'sharpen', parameters: { sigma: 1 } },
      ],
      [
        { type: 'resize', parameters: { width: 120 } },
        { type: 'extend', parameters: { bottom: 9, right: 3, background: '#ff00ff' } },
        { type: 'composite', parameters: { image_path: 'unused-here.png', gravity: 'northeast' } },
      ],
      [
        { type: 'thumbnail', parameters: { width: 60, position: 'east' } },
        { type: 'blur', parameters: { sigma: 0.8 } },
        { type: 'sharpen' },
        { type: 'composite', parameters: { image_path: 'unused-here.png', left: 3, top: 4 } },
      ],
    ];
    const mark = await prepareWatermark(await solid(12, 8, BLUE), 0.6, config);
    for (const chain of chains) {
      watermarks = new Map([[chain.length - 1, mark]]);
      expect(await maxDifference(data, ops(chain))).toBeLessThanOrEqual(2);
    }
  });
});
