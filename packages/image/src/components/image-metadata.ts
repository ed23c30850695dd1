import { defineComponent, z } from '@stepflow-packs/core';
import type { Metadata } from 'sharp';
import { loadImage } from '../io.js';
import { settings } from '../settings.js';
import { imageBlobField, imagePathField } from '../source-fields.js';

/** Header facts of an image, without decoding its pixels. */
export const imageMetadata = defineComponent({
  name: 'image_metadata',
  description:
    'Read an image header: dimensions, format, channels, EXIF orientation and file size (pixels are not decoded).',
  input: z
    .strictObject({
      image_path: imagePathField('Image file (absolute, or relative to the first root)'),
      image_blob_id: imageBlobField('Image blob: JSON {"data": "<base64>"} or a base64 string'),
    })
    .refine((v) => (v.image_path === undefined) !== (v.image_blob_id === undefined), {
      message: 'give exactly one of image_path or image_blob_id',
      path: ['image_path'],
    }),
  output: z.object({
    path: z.string().optional().describe('Real path of the file that was read'),
    blob_id: z.string().optional().describe('Blob that was read'),
    format: z.string().describe('Detected format (jpeg, png, webp, gif, tiff, heif, svg)'),
    width: z.number().int().describe('Stored width in pixels'),
    height: z.number().int().describe('Stored height in pixels'),
    display_width: z.number().int().describe('Width once the EXIF orientation is applied'),
    display_height: z.number().int().describe('Height once the EXIF orientation is applied'),
    channels: z.number().int().describe('Number of bands (3 = RGB, 4 = RGBA, 1 = grey, …)'),
    has_alpha: z.boolean(),
    space: z.string().optional().describe('Colour space (srgb, b-w, cmyk, …)'),
    depth: z.string().optional().describe('Sample format (uchar, ushort, …)'),
    orientation: z.number().int().describe('EXIF orientation 1–8 (1 when absent)'),
    has_exif: z.boolean(),
    has_icc_profile: z.boolean(),
    density: z.number().optional().describe('Pixels per inch, when stored'),
    pages: z.number().int().describe('Pages or frames in the file'),
    is_progressive: z.boolean().optional(),
    file_size: z.number().int().describe('Size of the file or decoded blob in bytes'),
  }),
  settings,
  idempotent: true,
  async execute(params, ctx) {
    // Only the header is read, so images over the decode pixel limit are still described.
    const image = await loadImage(
      params,
      ctx,
      { path: 'image_path', blob: 'image_blob_id' },
      {
        enforcePixelLimit: false,
        fullHeader: true,
      },
    );
    image.close(); // the header has been read
    const m: Partial<Metadata> = image.header.metadata ?? {};
    return {
      ...(image.path !== undefined ? { path: image.path } : {}),
      ...(image.blobId !== undefined ? { blob_id: image.blobId } : {}),
      format: m.format ?? image.format,
      width: image.header.width,
      height: image.header.height,
      display_width: image.header.orientedWidth,
      display_height: image.header.orientedHeight,
      channels: m.channels ?? 0,
      has_alpha: m.hasAlpha ?? false,
      ...(m.space ? { space: m.space } : {}),
      ...(m.depth ? { depth: m.depth } : {}),
      orientation: m.orientation ?? 1,
      has_exif: m.exif !== undefined,
      has_icc_profile: m.icc !== undefined || m.hasProfile === true,
      ...(m.density ? { density: m.density } : {}),
      pages: m.pages ?? 1,
      ...(m.isProgressive !== undefined ? { is_progressive: m.isProgressive } : {}),
      file_size: image.size,
    };
  },
});
