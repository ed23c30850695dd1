import { basename, dirname, join, relative, sep } from 'node:path';
import {
  defineComponent,
  ErrorCodes,
  oneSentence,
  RpcError,
  z,
  type ComponentContext,
} from '@stepflow-packs/core';
import { refused } from '../errors.js';
import { jailFor, loadImage, processedName } from '../io.js';
import type { DirectoryEntry, PendingWrite } from '../jail.js';
import { operations, type Operation } from '../operations.js';
import type { OutputFormat, Watermark } from '../pipeline.js';
import { settings, type ImageSettings, type InputFormat } from '../settings.js';
import { autoOrient, outputFormat, prepareWatermarks, quality, transform } from '../transform.js';

const EXTENSIONS: Record<InputFormat, string[]> = {
  jpeg: ['.jpg', '.jpeg', '.jpe', '.jfif'],
  png: ['.png'],
  webp: ['.webp'],
  gif: ['.gif'],
  tiff: ['.tif', '.tiff'],
  avif: ['.avif'],
  heif: ['.heic', '.heif'],
  svg: ['.svg'],
};

const SKIP_REASONS = [
  'not_an_image',
  'hidden',
  'symlink',
  'special_file',
  'directory',
  'output_directory',
] as const;
type SkipReason = (typeof SKIP_REASONS)[number];

const result = z.object({
  input_path: z.string().describe('Folder entry'),
  output_path: z.string().optional().describe('Written file (when successful)'),
  status: z
    .enum(['processed', 'failed', 'skipped'])
    .describe(
      'processed; failed (see error_*); skipped: not an image to process (see skip_reason)',
    ),
  skip_reason: z
    .enum(SKIP_REASONS)
    .optional()
    .describe(
      'Why a skipped entry was not processed: not_an_image (extension), hidden (dot file), symlink (never followed), special_file (FIFO, socket, device), directory (recursive is false), output_directory',
    ),
  success: z.boolean().describe('True when processed'),
  error_message: z.string().optional().describe('Why this file failed'),
  error_code: z
    .number()
    .int()
    .optional()
    .describe('JSON-RPC error code the failure would have as a single call'),
  error_reason: z
    .string()
    .optional()
    .describe('Machine-readable reason (e.g. crop_out_of_bounds, output_exists)'),
  width: z.number().int().optional().describe('Output width'),
  height: z.number().int().optional().describe('Output height'),
  fileSize: z.number().int().optional().describe('Output size in bytes'),
});
type FileResult = z.input<typeof result>;

interface Job {
  input: string;
  output: string;
}

function skipped(input: string, reason: SkipReason): FileResult {
  return { input_path: input, status: 'skipped', skip_reason: reason, success: false };
}

function failure(input: string, err: unknown): FileResult {
  if (err instanceof RpcError) {
    const data = err.data as { reason?: unknown } | undefined;
    return {
      input_path: input,
      status: 'failed',
      success: false,
      error_message: err.message,
      error_code: err.code,
      ...(typeof data?.reason === 'string' ? { error_reason: data.reason } : {}),
    };
  }
  const message = err instanceof Error ? oneSentence(err.message) : 'unexpected failure';
  return {
    input_path: input,
    status: 'failed',
    success: false,
    error_message: `Unexpected error: ${message}`,
    error_code: ErrorCodes.COMPONENT_EXECUTION_FAILED,
  };
}

async function processOne(
  job: Job,
  request: {
    operations: Operation[];
    format: OutputFormat;
    quality: number;
    autoOrient: boolean;
    overwrite: boolean;
  },
  watermarks: ReadonlyMap<number, Watermark>,
  outputRoot: string,
  ctx: ComponentContext<ImageSettings>,
): Promise<FileResult> {
  const jail = jailFor(ctx.config);
  try {
    const outDir = dirname(job.output);
    if (outDir !== outputRoot) await jail.ensureDirectory(outDir, 'output_directory');
    const target = await jail.prepareOutput(job.output, 'output file', request.overwrite);
    const image = await loadImage({ image_path: job.input }, ctx, {
      path: 'input file',
      blob: 'input blob',
    });
    let pending: PendingWrite | undefined;
    let out;
    try {
      const running = transform(image, request, watermarks, ctx.config);
      // The temporary output file is created while sharp works in the thread pool.
      try {
        pending = jail.prepareWrite(target, 'output file', job.output);
      } catch (err) {
        await running.catch(() => {});
        throw err;
      }
      out = await running;
    } catch (err) {
      pending?.discard();
      throw err;
    } finally {
      image.close();
    }
    await pending.commit(out.data);
    return {
      input_path: job.input,
      output_path: target.path,
      status: 'processed',
      success: true,
      width: out.width,
      height: out.height,
      fileSize: out.data.length,
    };
  } catch (err) {
    return failure(job.input, err);
  }
}

function skipReason(
  name: string,
  kind: DirectoryEntry['kind'],
  extensions: ReadonlySet<string>,
): SkipReason | undefined {
  if (kind === 'directory') return 'directory';
  if (kind === 'excluded_directory') return 'output_directory';
  if (name.startsWith('.')) return 'hidden';
  if (kind === 'symlink') return 'symlink';
  if (kind === 'special') return 'special_file';
  const dot = name.lastIndexOf('.');
  return dot > 0 && extensions.has(name.slice(dot).toLowerCase()) ? undefined : 'not_an_image';
}

/** `batch_process_images`: every file of a folder through the same operations, bounded in parallel. */
export const batchProcessImages = defineComponent({
  name: 'batch_process_images',
  description:
    'Apply the same operations and output format to every image in a directory, parallel_limit at a time; one failure never stops the batch, and every entry of the folder is reported (processed, failed or skipped with a reason).',
  input: z.strictObject({
    image_directory: z
      .string()
      .min(1)
      .max(4096)
      .describe('Directory of input images (inside the roots)'),
    operations,
    output_directory: z
      .string()
      .min(1)
      .max(4096)
      .describe('Directory for the outputs (created if missing, inside the roots)'),
    output_format: outputFormat,
    quality,
    parallel_limit: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(3)
      .describe('Images processed at once by this call (1–10)'),
    overwrite: z
      .boolean()
      .default(false)
      .describe('Replace existing outputs (default false: such files fail)'),
    recursive: z
      .boolean()
      .default(false)
      .describe('Include subdirectories (links to directories are never followed)'),
    auto_orient: autoOrient,
  }),
  output: z.object({
    success: z.boolean().describe('True when no image failed (skipped entries do not count)'),
    total_entries: z
      .number()
      .int()
      .describe('Entries of the folder: processed_images + failed_images + skipped_entries'),
    total_images: z.number().int().describe('Images attempted: processed_images + failed_images'),
    processed_images: z.number().int(),
    failed_images: z.number().int(),
    skipped_entries: z.number().int().describe('Entries that are not images to process'),
    processing_time_ms: z.number(),
    results: z.array(result).describe('One result per folder entry, sorted by path'),
  }),
  settings,
  idempotent: false,
  async execute(params, ctx) {
    const started = performance.now();
    const config = ctx.config;
    const jail = jailFor(config);
    const inputDir = await jail.directory(params.image_directory, 'image_directory');
    const outputDir = await jail.ensureDirectory(params.output_directory, 'output_directory');
    const extensions = new Set(config.allowedInputFormats.flatMap((f) => EXTENSIONS[f]));
    const entries = await jail.list(inputDir, {
      recursive: params.recursive,
      maxFiles: config.maxFiles,
      field: 'image_directory',
      skip: outputDir.startsWith(inputDir + sep) ? outputDir : undefined,
    });
    const watermarks = await prepareWatermarks(params.operations, ctx);

    // Plan outputs first: a snapshot taken before anything is written keeps the batch loop-safe.
    const results: FileResult[] = new Array(entries.length);
    const images: { index: number; input: string }[] = [];
    entries.forEach(({ path, kind }, index) => {
      const reason = skipReason(basename(path), kind, extensions);
      if (reason) results[index] = skipped(path, reason);
      else images.push({ index, input: path });
    });
    const inputs = new Set(images.map((image) => image.input));
    const claimed = new Set<string>();
    const jobs: { index: number; job: Job }[] = [];
    images.forEach(({ index, input }) => {
      const rel = relative(inputDir, input);
      const output = join(
        outputDir,
        dirname(rel),
        basename(processedName(rel, params.output_format)),
      );
      if (inputs.has(output)) {
        results[index] = failure(
          input,
          refused(
            'output_would_replace_input',
            `the output for ${JSON.stringify(input)} would replace another input`,
          ),
        );
      } else if (claimed.has(output)) {
        results[index] = failure(
          input,
          refused('duplicate_output', `another input already writes ${JSON.stringify(output)}`),
        );
      } else {
        claimed.add(output);
        jobs.push({ index, job: { input, output } });
      }
    });

    const request = {
      operations: params.operations,
      format: params.output_format,
      quality: params.quality,
      autoOrient: params.auto_orient,
      overwrite: params.overwrite,
    };
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const { index, job } = jobs[next++]!;
        results[index] = ctx.signal.aborted
          ? failure(
              job.input,
              refused('cancelled', 'the request was cancelled before this file was processed'),
            )
          : await processOne(job, request, watermarks, outputDir, ctx);
        // Rides on the Stepflow 0.13 heartbeats; a no-op on the JSON-RPC generations.
        done++;
        ctx.reportProgress(done / jobs.length, `${done} of ${jobs.length} images done`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(params.parallel_limit, jobs.length) }, worker));

    const count = (status: FileResult['status']) =>
      results.filter((r) => r.status === status).length;
    const failed = count('failed');
    const processed = count('processed');
    return {
      success: failed === 0,
      total_entries: results.length,
      total_images: processed + failed,
      processed_images: processed,
      failed_images: failed,
      skipped_entries: count('skipped'),
      processing_time_ms: Math.round((performance.now() - started) * 100) / 100,
      results,
    };
  },
});
