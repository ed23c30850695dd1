import { canonicalJson } from '../../json/canonical.js';
import { isFloatMember } from '../../json/value.js';
import { success } from '../../execute/result.js';
import { builtinError, type Builtin } from './types.js';

export const putBlob: Builtin = {
  name: 'put_blob',
  description: 'Store JSON data (or a flow) in the blob store and return its content-addressed id',
  async execute(input, host) {
    const type = input.blob_type;
    const allowed = host.version !== 'v0.8' ? ['data', 'flow', 'binary'] : ['data', 'flow'];
    if (typeof type !== 'string' || !allowed.includes(type)) {
      throw builtinError('put_blob', `input.blob_type: required, one of ${allowed.join(', ')}`);
    }
    const data = input.data ?? null;
    if (type === 'flow' && host.version === 'v0.8') {
      try {
        host.checkFlow(data);
      } catch (err) {
        throw builtinError('put_blob', `data is not a valid v0.8 flow: ${(err as Error).message}`);
      }
    }
    const blobId =
      type === 'binary'
        ? host.blobStore.putBinary(Buffer.from(canonicalJson(data), 'utf8'))
        : host.blobStore.putSync(data, type as 'data' | 'flow', isFloatMember(input, 'data'));
    return success({ blob_id: blobId });
  },
};
