import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RpcError, type WorkerClient } from '@stepflow-packs/core/client';
import { startData, type Transport } from './worker.js';

const matrix: [Transport, 'v0.8' | 'v0.11'][] = [
  ['stdio', 'v0.8'],
  ['stdio', 'v0.11'],
  ['http-subprocess', 'v0.8'],
  ['http-subprocess', 'v0.11'],
];

describe.each(matrix)('built stepflow-pack-data over %s speaking %s', (transport, dialect) => {
  let worker: WorkerClient;

  beforeAll(async () => {
    worker = await startData(transport, dialect, { STEPFLOW_DATA_MAX_RECORDS: '1000' });
  }, 20_000);

  afterAll(async () => {
    await worker?.close();
  });

  it('lists every component with its schema', async () => {
    const names = (await worker.list()).map((c) => c.component).sort();
    expect(names).toEqual(
      [
        '/aggregate',
        '/batch_processing',
        '/deduplicate',
        '/distributed_processing',
        '/filter_records',
        '/format_csv',
        '/health_check',
        '/map_fields',
        '/parse_csv',
        '/process_data',
        '/robust_processing',
        '/sort_records',
      ].sort(),
    );
    const info = await worker.info('/filter_records');
    expect(info.input_schema).toMatchObject({ type: 'object', required: ['records', 'where'] });
  });

  it('runs a CSV → filter → sort → aggregate → CSV pipeline', async () => {
    const parsed = (await worker.execute('/parse_csv', {
      csv: 'city,name,age\nLondon,Ada,36\nParis,Émile,41\nLondon,Alan,41\nParis,Zoë,19\n',
      infer_types: true,
    })) as { records: Record<string, unknown>[] };
    const adults = (await worker.execute('/filter_records', {
      records: parsed.records,
      where: [{ field: 'age', op: 'gte', value: 21 }],
    })) as { records: Record<string, unknown>[] };
    const sorted = (await worker.execute('/sort_records', {
      records: adults.records,
      by: [{ field: 'age', order: 'desc' }, { field: 'name' }],
    })) as { records: Record<string, unknown>[] };
    expect(sorted.records.map((r) => r.name)).toEqual(['Alan', 'Émile', 'Ada']);
    const groups = (await worker.execute('/aggregate', {
      records: sorted.records,
      group_by: ['city'],
      metrics: [{ op: 'count' }, { op: 'avg', field: 'age' }],
    })) as { groups: Record<string, unknown>[] };
    const csv = (await worker.execute('/format_csv', { records: groups.groups })) as {
      csv: string;
    };
    expect(csv.csv).toBe('city,count,avg_age\nLondon,2,38.5\nParis,1,41\n');
  });

  it('round-trips __proto__ keys over the wire', async () => {
    const records = JSON.parse(
      '[{"__proto__":{"x":1},"n":2},{"__proto__":{"x":1},"n":1}]',
    ) as unknown[];
    const out = (await worker.execute('/sort_records', {
      records,
      by: [{ field: 'n' }],
    })) as unknown;
    expect(JSON.stringify(out)).toContain(
      '"records":[{"__proto__":{"x":1},"n":1},{"__proto__":{"x":1},"n":2}]',
    );
  });

  it('answers -32003 naming the path for invalid input', async () => {
    const error = await worker
      .execute('/filter_records', { records: [1], where: [] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcError);
    expect((error as RpcError).code).toBe(-32003);
    expect((error as RpcError).message).toBe('input.records[0]: expected an object');
  });

  it('applies settings from the environment: -32103 past STEPFLOW_DATA_MAX_RECORDS', async () => {
    const records = Array.from({ length: 1001 }, () => ({}));
    const error = await worker.execute('/deduplicate', { records }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcError);
    expect(error).toMatchObject({
      code: -32103,
      data: { reason: 'too_many_records', limit: 1000, actual: 1001 },
    });
  });

  it('answers -32101 naming records[i].field for a per-record failure in fail mode', async () => {
    const error = await worker
      .execute('/aggregate', {
        records: [{ v: 1 }, { v: 'x' }],
        metrics: [{ op: 'sum', field: 'v' }],
        on_record_error: 'fail',
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: -32101,
      message: 'records[1].v: sum needs a number, got a string',
    });
  });

  it('runs the documentation’s process_data example', async () => {
    const out = (await worker.execute('/process_data', {
      data: { name: 'alice', role: 'engineer' },
      processing_rules: { uppercase: true },
    })) as { processed_data: unknown; metadata: { component_version: string } };
    expect(out.processed_data).toEqual({ name: 'ALICE', role: 'ENGINEER' });
    expect(out.metadata.component_version).toBe('1.0.0');
  });
});
