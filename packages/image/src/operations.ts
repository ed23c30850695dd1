import { z } from '@stepflow-packs/core';
import { refused } from './errors.js';
import { imageBlobField, imagePathField } from './source-fields.js';

/** libvips' largest coordinate; larger sizes are refused by the schema. */
export const MAX_DIMENSION = 10_000_000;

const dimension = (what: string) => z.number().int().min(1).max(MAX_DIMENSION).describe(what);
const offset = (what: string) => z.number().int().min(0).max(MAX_DIMENSION).describe(what);
const color = (what: string) =>
  z
    .string()
    .regex(
      /^#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$/,
      'expected a colour as #rgb, #rgba, #rrggbb or #rrggbbaa',
    )
    .describe(what);

export const FITS = ['cover', 'contain', 'fill', 'inside', 'outside'] as const;
export const GRAVITIES = [
  'centre',
  'center',
  'north',
  'northeast',
  'east',
  'southeast',
  'south',
  'southwest',
  'west',
  'northwest',
] as const;
export const POSITIONS = [...GRAVITIES, 'entropy', 'attention'] as const;

const fitPosition = <T extends z.ZodRawShape>(shape: T) =>
  z
    .strictObject(shape)
    .refine(
      (p: Record<string, unknown>) =>
        !(p.position === 'entropy' || p.position === 'attention') ||
        p.fit === undefined ||
        p.fit === 'cover',
      { message: 'position entropy/attention needs fit "cover"', path: ['position'] },
    );

const resize = z.strictObject({
  type: z.literal('resize'),
  parameters: fitPosition({
    width: dimension(
      'Target width in pixels (omit to keep the aspect ratio from height)',
    ).optional(),
    height: dimension(
      'Target height in pixels (omit to keep the aspect ratio from width)',
    ).optional(),
    fit: z
      .enum(FITS)
      .default('cover')
      .describe('How the image fits the box: cover, contain, fill, inside, outside'),
    position: z
      .enum(POSITIONS)
      .default('centre')
      .describe('Gravity or strategy used by cover/contain'),
    background: color('Padding colour for fit "contain"').default('#000000'),
    without_enlargement: z
      .boolean()
      .default(false)
      .describe('Never make the image larger than it is'),
  }).refine((p) => p.width !== undefined || p.height !== undefined, {
    message: 'resize needs width, height or both',
    path: ['width'],
  }),
});

const crop = z.strictObject({
  type: z.literal('crop'),
  parameters: z.strictObject({
    left: offset('Left edge of the area, in pixels').default(0),
    top: offset('Top edge of the area, in pixels').default(0),
    width: dimension('Width of the area'),
    height: dimension('Height of the area'),
  }),
});

const rotate = z.strictObject({
  type: z.literal('rotate'),
  parameters: z
    .strictObject({
      degrees: z
        .number()
        .min(-360)
        .max(360)
        .default(90)
        .describe('Clockwise angle; non-multiples of 90 enlarge the canvas'),
      background: color('Fill for the corners of non-right-angle rotations').default('#000000'),
    })
    .prefault({}),
});

const blur = z.strictObject({
  type: z.literal('blur'),
  parameters: z
    .strictObject({
      sigma: z.number().min(0.3).max(1000).default(1).describe('Gaussian sigma (0.3–1000)'),
    })
    .prefault({}),
});

const sharpen = z.strictObject({
  type: z.literal('sharpen'),
  parameters: z
    .strictObject({
      sigma: z
        .number()
        .min(0.000001)
        .max(10)
        .optional()
        .describe('Gaussian sigma of the mask (omit for a fast mild sharpen)'),
      flat: z
        .number()
        .min(0)
        .max(1_000_000)
        .optional()
        .describe('Sharpening applied to flat areas'),
      jagged: z
        .number()
        .min(0)
        .max(1_000_000)
        .optional()
        .describe('Sharpening applied to jagged areas'),
    })
    .prefault({}),
});

const noParameters = z.strictObject({}).prefault({}).describe('No parameters');
const flip = z.strictObject({ type: z.literal('flip'), parameters: noParameters });
const flop = z.strictObject({ type: z.literal('flop'), parameters: noParameters });
const grayscale = z.strictObject({ type: z.literal('grayscale'), parameters: noParameters });

const extend = z.strictObject({
  type: z.literal('extend'),
  parameters: z
    .strictObject({
      top: offset('Pixels added at the top').default(0),
      bottom: offset('Pixels added at the bottom').default(0),
      left: offset('Pixels added on the left').default(0),
      right: offset('Pixels added on the right').default(0),
      background: color('Colour of the added pixels').default('#000000'),
      extend_with: z
        .enum(['background', 'copy', 'repeat', 'mirror'])
        .default('background')
        .describe('How new pixels are filled'),
    })
    .prefault({}),
});

const trim = z.strictObject({
  type: z.literal('trim'),
  parameters: z
    .strictObject({
      threshold: z
        .number()
        .min(0)
        .max(255)
        .default(10)
        .describe('Allowed difference from the background colour'),
      background: color('Colour to trim (default: the top-left pixel)').optional(),
    })
    .prefault({}),
});

const composite = z.strictObject({
  type: z.literal('composite'),
  parameters: z
    .strictObject({
      image_path: imagePathField('Watermark image file (inside the roots)'),
      image_blob_id: imageBlobField('Watermark image blob (base64 JSON, see README)'),
      gravity: z
        .enum(GRAVITIES)
        .default('southeast')
        .describe('Where the watermark goes (ignored with left/top)'),
      left: offset('Left offset of the watermark (with top)').optional(),
      top: offset('Top offset of the watermark (with left)').optional(),
      opacity: z.number().min(0).max(1).default(1).describe('Watermark opacity (0–1)'),
      tile: z.boolean().default(false).describe('Repeat the watermark across the image'),
    })
    .refine((p) => (p.image_path === undefined) !== (p.image_blob_id === undefined), {
      message: 'give exactly one of image_path or image_blob_id',
      path: ['image_path'],
    })
    .refine((p) => (p.left === undefined) === (p.top === undefined), {
      message: 'left and top go together',
      path: ['left'],
    }),
});

const thumbnail = z.strictObject({
  type: z.literal('thumbnail'),
  parameters: fitPosition({
    width: dimension('Thumbnail width in pixels'),
    height: dimension('Thumbnail height in pixels (default: width)').optional(),
    fit: z.enum(FITS).default('cover').describe('How the image fits the box'),
    position: z
      .enum(POSITIONS)
      .default('centre')
      .describe('Gravity or strategy (entropy, attention) for cover'),
    background: color('Padding colour for fit "contain"').default('#ffffff'),
  }),
});

export const operation = z
  .discriminatedUnion('type', [
    resize,
    crop,
    rotate,
    blur,
    sharpen,
    flip,
    flop,
    grayscale,
    extend,
    trim,
    composite,
    thumbnail,
  ])
  .describe('One operation; operations apply in order');

export const operations = z
  .array(operation)
  .max(50)
  .default([])
  .describe('Operations applied in order (at most 50)');

export type Operation = z.output<typeof operation>;
export type OperationType = Operation['type'];
export type OperationOf<T extends OperationType> = Extract<Operation, { type: T }>;

const num = (n: number) => String(Number(n.toFixed(6)));

/** The documented `operations_applied` strings: resize(640x480), crop(100x100), rotate(90°), blur(2), sharpen. */
export function describeOperation(op: Operation): string {
  switch (op.type) {
    case 'resize':
      return `resize(${op.parameters.width ?? 'auto'}x${op.parameters.height ?? 'auto'})`;
    case 'crop':
      return `crop(${op.parameters.width}x${op.parameters.height})`;
    case 'rotate':
      return `rotate(${num(op.parameters.degrees)}°)`;
    case 'blur':
      return `blur(${num(op.parameters.sigma)})`;
    case 'sharpen':
    case 'flip':
    case 'flop':
    case 'grayscale':
    case 'trim':
      return op.type;
    case 'extend': {
      const p = op.parameters;
      return `extend(${p.top},${p.right},${p.bottom},${p.left})`;
    }
    case 'composite':
      return 'composite(watermark)';
    case 'thumbnail':
      return `thumbnail(${op.parameters.width}x${op.parameters.height ?? op.parameters.width})`;
  }
}

/** Image size at a point of the chain; `exact` is false once it is only an estimate/upper bound. */
export interface Dims {
  width: number;
  height: number;
  exact: boolean;
}

function scaled(
  w0: number,
  h0: number,
  w: number | undefined,
  h: number | undefined,
  fit: (typeof FITS)[number],
): [number, number] {
  if (w !== undefined && h !== undefined) {
    if (fit === 'inside' || fit === 'outside') {
      const s = fit === 'inside' ? Math.min(w / w0, h / h0) : Math.max(w / w0, h / h0);
      return [Math.max(1, Math.round(w0 * s)), Math.max(1, Math.round(h0 * s))];
    }
    return [w, h];
  }
  if (w !== undefined) return [w, Math.max(1, Math.round((h0 * w) / w0))];
  return [Math.max(1, Math.round((w0 * h!) / h0)), h!];
}

/** Throw -32103 when a crop does not fit `dims` (only meaningful when dims are exact). */
export function checkCrop(op: OperationOf<'crop'>, dims: Dims, index: number): void {
  const { left, top, width, height } = op.parameters;
  if (left + width > dims.width || top + height > dims.height) {
    throw refused(
      'crop_out_of_bounds',
      `operations[${index}]: crop ${width}×${height} at (${left}, ${top}) exceeds the ${dims.width}×${dims.height} image`,
      {
        field: `operations[${index}].parameters`,
        image: { width: dims.width, height: dims.height },
        crop: { left, top, width, height },
      },
    );
  }
}

/** The size after `op` (estimate where sharp decides), validating crop bounds when possible. */
export function nextDims(op: Operation, dims: Dims, index: number): Dims {
  const { width: w0, height: h0, exact } = dims;
  switch (op.type) {
    case 'resize': {
      const p = op.parameters;
      let [w, h] = scaled(w0, h0, p.width, p.height, p.fit);
      if (p.without_enlargement && (w > w0 || h > h0)) {
        const s = Math.min(w0 / w, h0 / h);
        [w, h] = [Math.max(1, Math.round(w * s)), Math.max(1, Math.round(h * s))];
      }
      return {
        width: w,
        height: h,
        exact:
          exact &&
          p.width !== undefined &&
          p.height !== undefined &&
          p.fit !== 'inside' &&
          p.fit !== 'outside' &&
          !p.without_enlargement,
      };
    }
    case 'thumbnail': {
      const p = op.parameters;
      const [w, h] = scaled(w0, h0, p.width, p.height ?? p.width, p.fit);
      return { width: w, height: h, exact: exact && p.fit !== 'inside' && p.fit !== 'outside' };
    }
    case 'crop':
      if (exact) checkCrop(op, dims, index);
      return { width: op.parameters.width, height: op.parameters.height, exact };
    case 'rotate': {
      const d = ((op.parameters.degrees % 360) + 360) % 360;
      if (d === 0 || d === 180) return dims;
      if (d === 90 || d === 270) return { width: h0, height: w0, exact };
      const r = (d * Math.PI) / 180;
      const c = Math.abs(Math.cos(r));
      const s = Math.abs(Math.sin(r));
      return {
        width: Math.ceil(w0 * c + h0 * s),
        height: Math.ceil(w0 * s + h0 * c),
        exact: false,
      };
    }
    case 'extend': {
      const p = op.parameters;
      return { width: w0 + p.left + p.right, height: h0 + p.top + p.bottom, exact };
    }
    case 'trim':
      return { width: w0, height: h0, exact: false };
    default:
      return dims;
  }
}

/** Check every intermediate and the final size against the output pixel cap, before decoding. */
export function planDims(ops: readonly Operation[], start: Dims, maxOutputPixels: number): Dims {
  let dims = start;
  ops.forEach((op, index) => {
    dims = nextDims(op, dims, index);
    const pixels = dims.width * dims.height;
    if (pixels > maxOutputPixels) {
      throw refused(
        'output_pixel_limit',
        `operations[${index}] (${describeOperation(op)}) would produce ${dims.width}×${dims.height} = ${pixels} pixels, over the output limit of ${maxOutputPixels}`,
        {
          field: `operations[${index}]`,
          limit: maxOutputPixels,
          actual: pixels,
          width: dims.width,
          height: dims.height,
        },
      );
    }
  });
  return dims;
}
