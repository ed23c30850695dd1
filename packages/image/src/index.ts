import { createRequire } from 'node:module';
import { definePack } from '@stepflow-packs/core';
import { batchProcessImages } from './components/batch-process-images.js';
import { imageMetadata } from './components/image-metadata.js';
import { processImage } from './components/process-image.js';
import { settings } from './settings.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

export const imagePack = definePack({
  name: 'image',
  version,
  description: 'Image processing with sharp, confined to configured roots',
  settings,
  components: [processImage, batchProcessImages, imageMetadata],
});

export { batchProcessImages, imageMetadata, processImage, settings };
export { sniffFormat } from './engine.js';
export { planStages, OUTPUT_FORMATS, type OutputFormat } from './pipeline.js';
export { describeOperation, operation, type Operation } from './operations.js';
export type { ImageSettings, InputFormat } from './settings.js';
