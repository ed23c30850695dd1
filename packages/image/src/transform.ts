import type { ComponentContext } from '@stepflow-packs/core';
import { z } from '@stepflow-packs/core';
import { loadImage, type LoadedImage } from './io.js';
import { planDims, type Operation } from './operations.js';
import {
  OUTPUT_FORMATS,
  prepareWatermark,
  runPipeline,
  type OutputFormat,
  type PipelineResult,
  type Watermark,
} from './pipeline.js';
import type { ImageSettings } from './settings.js';

export const outputFormat = z
  .enum(OUTPUT_FORMATS)
  .default('jpeg')
  .describe('Output format: jpeg (default), png, webp, avif, tiff, gif');
export const quality = z
  .number()
  .int()
  .min(1)
  .max(100)
  .default(85)
  .describe('Encoder quality 1–100 (jpeg, webp, avif, tiff)');
export const autoOrient = z
  .boolean()
  .default(true)
  .describe('Rotate according to the EXIF orientation before the operations (default true)');

export const size = z.object({
  width: z.number().int().describe('Width in pixels'),
  height: z.number().int().describe('Height in pixels'),
  fileSize: z.number().int().describe('Size of the encoded image in bytes'),
});

/** Load every composite watermark once (same confinement and limits as inputs). */
export async function prepareWatermarks(
  operations: readonly Operation[],
  ctx: ComponentContext<ImageSettings>,
): Promise<Map<number, Watermark>> {
  const marks = new Map<number, Watermark>();
  for (const [index, op] of operations.entries()) {
    if (op.type !== 'composite') continue;
    const field = `operations[${index}].parameters`;
    const loaded = await loadImage(op.parameters, ctx, {
      path: `${field}.image_path`,
      blob: `${field}.image_blob_id`,
    });
    try {
      marks.set(index, await prepareWatermark(loaded.source, op.parameters.opacity, ctx.config));
    } finally {
      loaded.close();
    }
  }
  return marks;
}

export interface TransformRequest {
  operations: readonly Operation[];
  format: OutputFormat;
  quality: number;
  autoOrient: boolean;
}

/** Validate the chain against the header (pixel caps, crop bounds), then run it. */
export async function transform(
  image: LoadedImage,
  request: TransformRequest,
  watermarks: ReadonlyMap<number, Watermark>,
  config: ImageSettings,
): Promise<PipelineResult> {
  const h = image.header;
  const start = request.autoOrient
    ? { width: h.orientedWidth, height: h.orientedHeight, exact: true }
    : { width: h.width, height: h.height, exact: true };
  planDims(request.operations, start, config.maxOutputPixels);
  return runPipeline(
    {
      source: image.source,
      operations: request.operations,
      format: request.format,
      quality: request.quality,
      autoOrient: request.autoOrient,
      start,
      watermarks,
    },
    config,
  );
}
