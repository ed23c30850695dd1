import { defineComponent, z } from '@stepflow-packs/core';
import { jailFor, loadImage, processedName, putImageBlob } from '../io.js';
import type { PendingWrite } from '../jail.js';
import { describeOperation, operations } from '../operations.js';
import { settings } from '../settings.js';
import { imageBlobField, imagePathField } from '../source-fields.js';
import {
  autoOrient,
  outputFormat,
  prepareWatermarks,
  quality,
  size,
  transform,
} from '../transform.js';

const input = z
  .strictObject({
    image_path: imagePathField('Input image file (absolute, or relative to the first root)'),
    image_blob_id: imageBlobField('Input image blob: JSON {"data": "<base64>"} or a base64 string'),
    operations,
    output_format: outputFormat,
    quality,
    output_path: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe(
        'Output file (default: the input path with its extension replaced by _processed.<format>)',
      ),
    output_blob: z
      .boolean()
      .optional()
      .describe(
        'Store the output as a blob instead of a file (default: true for blob input without output_path)',
      ),
    overwrite: z
      .boolean()
      .default(false)
      .describe('Replace an existing output file (default false: refused with -32103)'),
    auto_orient: autoOrient,
  })
  .refine((v) => (v.image_path === undefined) !== (v.image_blob_id === undefined), {
    message: 'give exactly one of image_path or image_blob_id',
    path: ['image_path'],
  })
  .refine((v) => !(v.output_blob === true && v.output_path !== undefined), {
    message: 'output_path and output_blob: true exclude each other',
    path: ['output_blob'],
  });

/** The `process_image` contract of Stepflow's TypeScript example, with every operation applied in order. */
export const processImage = defineComponent({
  name: 'process_image',
  description:
    'Apply image operations (resize, crop, rotate, blur, sharpen, flip, flop, grayscale, extend, trim, composite, thumbnail) in order and write the result to a file or blob.',
  input,
  output: z.object({
    success: z.boolean().describe('True when the image was written (failures are JSON-RPC errors)'),
    output_path: z.string().optional().describe('Absolute path of the written file'),
    output_blob_id: z
      .string()
      .optional()
      .describe('Blob holding the output ({format, width, height, size, data: base64})'),
    output_format: z.string().describe('Format of the output'),
    original_size: size
      .optional()
      .describe('Input dimensions (after EXIF orientation when auto_orient) and byte size'),
    processed_size: size.optional().describe('Output dimensions and byte size'),
    operations_applied: z
      .array(z.string())
      .describe('e.g. resize(640x480), crop(100x100), rotate(90°), blur(2), sharpen'),
    processing_time_ms: z.number().describe('Wall time of the call in milliseconds'),
    error_message: z
      .string()
      .optional()
      .describe('Never set: failures are reported as JSON-RPC errors'),
  }),
  settings,
  idempotent: false,
  async execute(params, ctx) {
    const started = performance.now();
    const jail = jailFor(ctx.config);
    const toBlob =
      params.output_blob ?? (params.image_path === undefined && params.output_path === undefined);
    const outputUserPath = toBlob
      ? undefined
      : (params.output_path ?? processedName(params.image_path!, params.output_format));
    // Input (read + header only) and output location are checked before any pixel is decoded.
    const image = await loadImage(params, ctx, { path: 'image_path', blob: 'image_blob_id' });
    const field = params.output_path ? 'output_path' : 'image_path';
    let pending: PendingWrite | undefined;
    let result;
    try {
      const target =
        outputUserPath === undefined
          ? undefined
          : await jail.prepareOutput(outputUserPath, field, params.overwrite);
      const watermarks = await prepareWatermarks(params.operations, ctx);
      const running = transform(
        image,
        {
          operations: params.operations,
          format: params.output_format,
          quality: params.quality,
          autoOrient: params.auto_orient,
        },
        watermarks,
        ctx.config,
      );
      // The temporary output file is created while sharp works in the thread pool.
      try {
        pending = target ? jail.prepareWrite(target, field, outputUserPath!) : undefined;
      } catch (err) {
        await running.catch(() => {});
        throw err;
      }
      result = await running;
    } catch (err) {
      pending?.discard();
      throw err;
    } finally {
      image.close();
    }
    let outputPath: string | undefined;
    let outputBlobId: string | undefined;
    if (pending) {
      await pending.commit(result.data);
      outputPath = pending.path;
    } else {
      outputBlobId = await putImageBlob(ctx, { ...result, format: params.output_format });
    }
    const h = image.header;
    return {
      success: true,
      ...(outputPath !== undefined ? { output_path: outputPath } : {}),
      ...(outputBlobId !== undefined ? { output_blob_id: outputBlobId } : {}),
      output_format: params.output_format,
      original_size: {
        width: params.auto_orient ? h.orientedWidth : h.width,
        height: params.auto_orient ? h.orientedHeight : h.height,
        fileSize: image.size,
      },
      processed_size: { width: result.width, height: result.height, fileSize: result.data.length },
      operations_applied: params.operations.map(describeOperation),
      processing_time_ms: Math.round((performance.now() - started) * 100) / 100,
    };
  },
});
