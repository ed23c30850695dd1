import { describe, expect, it } from 'vitest';
import { defineComponent, definePack, jsonObject, lazyArray, z } from '../../src/index.js';
import { createTestKit } from '../../src/testing/index.js';

const count = defineComponent({
  name: 'count',
  description: 'Count records.',
  blobInputs: ['records'],
  input: z.strictObject({ records: lazyArray(jsonObject()), label: z.string().default('n') }),
  output: z.object({ n: z.number(), first: z.unknown() }),
  execute({ records }) {
    return { n: records.length, first: records.at(0) ?? null };
  },
});
const pack = definePack({ name: 'blobby', version: '0.0.0', components: [count] });

describe('blobInputs: {"$blob": id} in place of a field', () => {
  it('reads the blob and validates its content as the field', async () => {
    const kit = createTestKit(pack);
    const id = await kit.blobs.put([{ a: 1 }, { a: 2 }, { a: 3 }]);
    expect(await kit.execute('count', { records: { $blob: id } })).toEqual({
      n: 3,
      first: { a: 1 },
    });
    expect(
      await kit.execute('count', { records: { $blob: id, blobType: 'data', size: 10 } }),
    ).toMatchObject({ n: 3 });
    expect(await kit.execute('count', { records: [{ a: 9 }] })).toEqual({ n: 1, first: { a: 9 } });
  });

  it('names the field when the blob is missing, and validates the blob content like the field', async () => {
    const kit = createTestKit(pack);
    const missing = await kit.call('count', { records: { $blob: 'a'.repeat(64) } });
    expect(missing).toMatchObject({
      ok: false,
      error: { code: -32103, data: { reason: 'blob_not_found', field: 'input.records' } },
    });
    const notRecords = await kit.blobs.put([1, 2]);
    const invalid = await kit.call('count', { records: { $blob: notRecords } });
    expect(invalid).toMatchObject({
      ok: false,
      error: { code: -32003, message: expect.stringContaining('input.records[0]') },
    });
  });

  it('leaves other objects alone: a ref with extra keys is validated as given', async () => {
    const kit = createTestKit(pack);
    const id = await kit.blobs.put([{ a: 1 }]);
    const result = await kit.call('count', { records: { $blob: id, extra: true } });
    expect(result).toMatchObject({ ok: false, error: { code: -32003 } });
  });

  it('publishes the field as anyOf [its schema, a blob reference]', () => {
    const props = count.inputJsonSchema.properties as Record<
      string,
      { anyOf?: { required?: string[] }[] }
    >;
    expect(props.records!.anyOf).toHaveLength(2);
    expect(props.records!.anyOf![1]!.required).toEqual(['$blob']);
    expect(props.label).not.toHaveProperty('anyOf');
  });
});
