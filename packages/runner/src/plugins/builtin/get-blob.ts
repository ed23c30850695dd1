import { success } from '../../execute/result.js';
import { BLOB_ID, builtinError, requireString, type Builtin } from './types.js';

export const getBlob: Builtin = {
  name: 'get_blob',
  description: 'Read the JSON data stored under a blob id',
  async execute(input, host) {
    const id = requireString('get_blob', input, 'blob_id');
    if (!BLOB_ID.test(id))
      throw builtinError(
        'get_blob',
        `input.blob_id: expected 64 lowercase hex characters, got ${JSON.stringify(id.slice(0, 80))}`,
      );
    const blob = host.blobStore.lookup(id);
    if (!blob) throw builtinError('get_blob', `blob ${id} not found`);
    if (blob.type === 'binary')
      throw builtinError('get_blob', `blob ${id} is binary and cannot be read as JSON`);
    return success({ data: blob.data as never });
  },
};
