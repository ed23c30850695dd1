import { z } from '@stepflow-packs/core';

/** Schema of an image file field (`image_path`): checked against the roots when used. */
export const imagePathField = (description: string) =>
  z.string().min(1).max(4096).optional().describe(description);

/** Schema of an image blob field (`image_blob_id`): base64 JSON, see the README. */
export const imageBlobField = (description: string) =>
  z.string().min(1).max(128).optional().describe(description);
