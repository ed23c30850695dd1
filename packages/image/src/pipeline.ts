import sharp from 'sharp';
import { fromSharpError, refused } from './errors.js';
import { inputOptions, sharpJobs } from './engine.js';
import { checkCrop, type Dims, type Operation, type OperationOf } from './operations.js';
import type { ImageSettings } from './settings.js';

export const OUTPUT_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'tiff', 'gif'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/**
 * Where an operation sits in sharp's fixed internal order. Operations with increasing ranks run
 * in one sharp pipeline; anything else starts a new stage on the materialised pixels of the
 * previous one, so the chain always applies in the order given. `0` = always a stage of its own.
 */
const RANK: Record<Operation['type'], number> = {
  crop: 1,
  resize: 2,
  thumbnail: 2,
  extend: 3,
  blur: 4,
  sharpen: 5,
  composite: 6,
  // sharp converts to greyscale early in its pipeline: keep it in a stage of its own.
  grayscale: 0,
  rotate: 0,
  flip: 0,
  flop: 0,
  trim: 0,
};

/** Group operations into sharp pipelines (`fuse: false` = one stage per operation, for tests). */
export function planStages(ops: readonly Operation[], fuse = true): Operation[][] {
  const stages: Operation[][] = [];
  let current: Operation[] = [];
  let last = -1;
  for (const op of ops) {
    const rank = RANK[op.type];
    const fits =
      fuse && rank > 0 && current.length > 0 && rank > last && RANK[current[0]!.type] > 0;
    if (!fits && current.length > 0) {
      stages.push(current);
      current = [];
    }
    current.push(op);
    last = rank;
  }
  if (current.length > 0) stages.push(current);
  return stages;
}

export interface Watermark {
  data: Buffer;
  width: number;
  height: number;
}

export interface PipelineRequest {
  /** Encoded bytes, or the path libvips should read (a /proc/self/fd path of a checked file). */
  source: Uint8Array | string;
  operations: readonly Operation[];
  /** Index of each operation in the request, for error messages. */
  format: OutputFormat;
  quality: number;
  autoOrient: boolean;
  /** Oriented input size. */
  start: Dims;
  /** Prepared watermarks by operation index. */
  watermarks: ReadonlyMap<number, Watermark>;
  fuse?: boolean;
}

export interface PipelineResult {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}

function encode(image: sharp.Sharp, format: OutputFormat, quality: number): sharp.Sharp {
  switch (format) {
    case 'jpeg':
      return image.jpeg({ quality });
    case 'png':
      return image.png();
    case 'webp':
      return image.webp({ quality });
    case 'avif':
      return image.avif({ quality });
    case 'tiff':
      return image.tiff({ quality });
    case 'gif':
      return image.gif();
  }
}

function applyOne(
  image: sharp.Sharp,
  op: Operation,
  index: number,
  dims: Dims,
  watermarks: ReadonlyMap<number, Watermark>,
): sharp.Sharp {
  switch (op.type) {
    case 'resize': {
      const p = op.parameters;
      return image.resize({
        ...(p.width !== undefined ? { width: p.width } : {}),
        ...(p.height !== undefined ? { height: p.height } : {}),
        fit: p.fit,
        position: p.position,
        background: p.background,
        withoutEnlargement: p.without_enlargement,
      });
    }
    case 'thumbnail': {
      const p = op.parameters;
      return image.resize({
        width: p.width,
        height: p.height ?? p.width,
        fit: p.fit,
        position: p.position,
        background: p.background,
      });
    }
    case 'crop':
      if (dims.exact) checkCrop(op, dims, index);
      return image.extract({
        left: op.parameters.left,
        top: op.parameters.top,
        width: op.parameters.width,
        height: op.parameters.height,
      });
    case 'rotate':
      return image.rotate(op.parameters.degrees, { background: op.parameters.background });
    case 'blur':
      return image.blur(op.parameters.sigma);
    case 'sharpen': {
      const p = op.parameters;
      if (p.sigma === undefined && p.flat === undefined && p.jagged === undefined)
        return image.sharpen();
      return image.sharpen({
        sigma: p.sigma ?? 1,
        ...(p.flat !== undefined ? { m1: p.flat } : {}),
        ...(p.jagged !== undefined ? { m2: p.jagged } : {}),
      });
    }
    case 'flip':
      return image.flip();
    case 'flop':
      return image.flop();
    case 'grayscale':
      return image.grayscale();
    case 'extend': {
      const p = op.parameters;
      return image.extend({
        top: p.top,
        bottom: p.bottom,
        left: p.left,
        right: p.right,
        background: p.background,
        extendWith: p.extend_with,
      });
    }
    case 'trim': {
      const p = op.parameters;
      return image.trim({
        threshold: p.threshold,
        ...(p.background ? { background: p.background } : {}),
      });
    }
    case 'composite':
      return compositeOne(image, op, index, dims, watermarks);
  }
}

function compositeOne(
  image: sharp.Sharp,
  op: OperationOf<'composite'>,
  index: number,
  dims: Dims,
  watermarks: ReadonlyMap<number, Watermark>,
): sharp.Sharp {
  const mark = watermarks.get(index);
  if (!mark) throw new Error(`watermark for operations[${index}] was not prepared`);
  const p = op.parameters;
  if (!p.tile && dims.exact) {
    const right = (p.left ?? 0) + mark.width;
    const bottom = (p.top ?? 0) + mark.height;
    if (right > dims.width || bottom > dims.height) {
      throw refused(
        'watermark_too_large',
        `operations[${index}]: the ${mark.width}×${mark.height} watermark does not fit the ${dims.width}×${dims.height} image`,
        {
          field: `operations[${index}].parameters`,
          image: { width: dims.width, height: dims.height },
          watermark: { width: mark.width, height: mark.height },
        },
      );
    }
  }
  return image.composite([
    {
      input: mark.data,
      tile: p.tile,
      ...(p.left !== undefined && p.top !== undefined
        ? { left: p.left, top: p.top }
        : { gravity: p.gravity }),
    },
  ]);
}

/**
 * Decode, apply every operation in order, encode. Holds one slot of the process-wide sharp job
 * limit for the whole chain. Sharp errors are mapped to the error contract.
 */
export async function runPipeline(
  request: PipelineRequest,
  config: ImageSettings,
): Promise<PipelineResult> {
  const limits = { maxInputPixels: config.maxInputPixels, timeoutSeconds: config.timeoutSeconds };
  const stages = planStages(request.operations, request.fuse ?? true);
  const indexOf = new Map<Operation, number>(request.operations.map((op, i) => [op, i]));
  const deadline = Date.now() + config.timeoutSeconds * 1000;
  const timeout = () => ({ seconds: Math.max(1, Math.ceil((deadline - Date.now()) / 1000)) });
  return sharpJobs(config.concurrency).run(async () => {
    try {
      let image = sharp(
        request.source,
        inputOptions(config, { autoOrient: request.autoOrient }),
      ).timeout(timeout());
      let dims: Dims = request.start;
      for (let s = 0; s < stages.length; s++) {
        if (s > 0) {
          const { data, info } = await image
            .raw({ depth: 'uchar' })
            .toBuffer({ resolveWithObject: true });
          if (Date.now() > deadline) throw new Error('timeout');
          dims = { width: info.width, height: info.height, exact: true };
          image = sharp(data, {
            raw: { width: info.width, height: info.height, channels: info.channels },
            limitInputPixels: Math.max(config.maxInputPixels, config.maxOutputPixels),
          }).timeout(timeout());
        }
        for (const op of stages[s]!) {
          image = applyOne(image, op, indexOf.get(op)!, dims, request.watermarks);
          // Within a stage only the first operation sees exact dimensions.
          dims = { ...dims, exact: false };
        }
      }
      const { data, info } = await encode(image, request.format, request.quality).toBuffer({
        resolveWithObject: true,
      });
      if (data.length > config.maxOutputBytes) {
        throw refused(
          'output_too_large',
          `The encoded output is ${data.length} bytes, over the limit of ${config.maxOutputBytes}`,
          {
            limit: config.maxOutputBytes,
            actual: data.length,
          },
        );
      }
      return { data, width: info.width, height: info.height, channels: info.channels };
    } catch (err) {
      throw fromSharpError(err, limits);
    }
  });
}

/** Decode a watermark (same limits as any input) and bake its opacity into the alpha channel. */
export async function prepareWatermark(
  data: Uint8Array | string,
  opacity: number,
  config: ImageSettings,
): Promise<Watermark> {
  const limits = { maxInputPixels: config.maxInputPixels, timeoutSeconds: config.timeoutSeconds };
  return sharpJobs(config.concurrency).run(async () => {
    try {
      let image = sharp(data, inputOptions(config, { autoOrient: true }))
        .timeout({ seconds: config.timeoutSeconds })
        .ensureAlpha();
      if (opacity < 1) {
        image = sharp(await image.png().toBuffer()).composite([
          {
            input: Buffer.from([255, 255, 255, Math.round(opacity * 255)]),
            raw: { width: 1, height: 1, channels: 4 },
            tile: true,
            blend: 'dest-in',
          },
        ]);
      }
      const { data: out, info } = await image.png().toBuffer({ resolveWithObject: true });
      return { data: out, width: info.width, height: info.height };
    } catch (err) {
      throw fromSharpError(err, limits);
    }
  });
}
