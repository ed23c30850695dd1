import { readFileSync, statSync } from 'node:fs';
import type { TestKit } from '@stepflow-packs/core/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dateDays, timestampMicros } from '../src/binary.js';
import { closePools } from '../src/index.js';
import { kitFor } from './support/kit.js';
import { createDatabase, sql } from './support/pg.js';

describe('strict ISO-8601 parsing for binary COPY', () => {
  const reference = (text: string) => (Date.parse(text) - Date.UTC(2000, 0, 1)) * 1000;

  it('computes microseconds since 2000-01-01 UTC with zones and fractions', () => {
    expect(timestampMicros('2000-01-01T00:00:00Z', true)).toBe(0);
    expect(timestampMicros('2024-01-02T03:04:05Z', true)).toBe(reference('2024-01-02T03:04:05Z'));
    expect(timestampMicros('2024-01-02T03:04:05.123456Z', true)).toBe(
      reference('2024-01-02T03:04:05.123Z') + 456,
    );
    expect(timestampMicros('2024-01-02 03:04:05+02', true)).toBe(
      reference('2024-01-02T03:04:05+02:00'),
    );
    expect(timestampMicros('2024-01-02T03:04:05.5-0830', true)).toBe(
      reference('2024-01-02T03:04:05.5-08:30'),
    );
    expect(timestampMicros('1900-03-01T00:00:00Z', true)).toBe(reference('1900-03-01T00:00:00Z'));
    expect(timestampMicros('2024-01-02T03:04:05', false)).toBe(reference('2024-01-02T03:04:05Z'));
  });

  it.each([
    ['2023-02-29T00:00:00Z'],
    ['2024-01-02T24:00:00Z'],
    ['2024-01-02T03:04:60Z'],
    ['2024-01-02T03:04:05'],
    ['2024-01-02T03:04:05.Z'],
    ['2024-01-02T03:04:05.1234567Z'],
    ['0999-01-01T00:00:00Z'],
    ['2024-1-2T03:04:05Z'],
    ['yesterday'],
    ['2024-01-02T03:04:05+16:00'],
  ])('leaves %j to PostgreSQL (text format)', (text) => {
    expect(timestampMicros(text, true)).toBeUndefined();
  });

  it('counts days for dates and refuses impossible ones', () => {
    expect(dateDays('2000-01-01')).toBe(0);
    expect(dateDays('1999-12-31')).toBe(-1);
    expect(dateDays('2024-02-29')).toBe(8825);
    expect(dateDays('2024-02-30')).toBeUndefined();
    expect(dateDays('2024-02-29T00:00:00Z')).toBeUndefined();
  });
});

describe('binary and text COPY store identical values', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let kit: TestKit;
  const logFile = inject('pgLogFile');

  beforeAll(async () => {
    db = await createDatabase('binary');
    kit = kitFor(db.url);
    if (logFile) await sql(db.url, `ALTER DATABASE ${db.name} SET log_statement = 'all'`);
    const columns = `(id int PRIMARY KEY, b boolean, i2 smallint, i8 bigint, f4 real, f8 double precision, t text,
      v varchar(20), c char(5), j json, jb jsonb, d date, ts timestamp, tz timestamptz, u uuid)`;
    await sql(db.url, `CREATE TABLE bin ${columns}; CREATE TABLE txt ${columns}`);
  });

  afterAll(async () => {
    await closePools();
    await db.drop();
  });

  const records = [
    {
      id: 1,
      b: true,
      i2: -32768,
      i8: 9007199254740991,
      f4: 1.5,
      f8: -1.25e-300,
      t: 'tab\there, newline\nthere, back\\slash, émoji 😀',
      v: 'varchar',
      c: 'ab',
      j: { a: [1, 'x'], n: null },
      jb: ['x', { y: 1 }],
      d: '2024-02-29',
      ts: '2024-02-29T12:34:56.789012',
      tz: '2024-02-29T23:59:59.999999+05:30',
      u: '123e4567-e89b-12d3-a456-426614174000',
    },
    {
      id: 2,
      b: false,
      i2: 32767,
      i8: -9007199254740991,
      f4: 0,
      f8: 0,
      t: '',
      v: '',
      c: '',
      j: 'str',
      jb: 0,
      d: '1999-12-31',
      ts: '1970-01-01 00:00:00',
      tz: '1900-01-01T00:00:00Z',
      u: '123E4567E89B12D3A456426614174000',
    },
    {
      id: 3,
      b: null,
      i2: null,
      i8: null,
      f4: null,
      f8: null,
      t: null,
      v: null,
      c: null,
      j: null,
      jb: null,
      d: null,
      ts: null,
      tz: null,
      u: null,
    },
    { id: 4 },
  ];

  it('gives the same rows whether the values go binary or (one odd value forcing it) as text', async () => {
    const logStart = logFile ? statSync(logFile).size : 0;
    const bin = await kit.execute<{ success: boolean }>('bulk_insert', {
      table_name: 'bin',
      records,
    });
    // A string for an integer column is fine for PostgreSQL's parser but not for the binary path;
    // as the first record it sends every record as text.
    const txt = await kit.execute<{ success: boolean }>('bulk_insert', {
      table_name: 'txt',
      records: [{ id: '5' }, ...records],
    });
    expect(bin.success).toBe(true);
    expect(txt.success).toBe(true);
    const select = (table: string) =>
      sql(db.url, `SELECT * FROM ${table} WHERE id < 5 ORDER BY id`);
    const binRows = await select('bin');
    expect(binRows).toEqual(await select('txt'));
    expect(binRows[0]).toMatchObject({
      i8: '9007199254740991',
      c: 'ab   ',
      u: '123e4567-e89b-12d3-a456-426614174000',
    });
    if (logFile) {
      const log = readFileSync(logFile, 'utf8').slice(logStart);
      expect(log).toMatch(/COPY "public"\."bin" \([^)]*\) FROM STDIN WITH \(FORMAT binary\)/);
      expect(log).toMatch(/COPY "public"\."txt" \([^)]*\) FROM STDIN\n/);
    }
  });

  it('continues in text from the first value without a binary form: all rows, in order, one transaction, 3 batches', async () => {
    await sql(db.url, 'CREATE TABLE mixed (n serial, id int, tz timestamptz, t text)');
    const logStart = logFile ? statSync(logFile).size : 0;
    const rows = Array.from({ length: 2500 }, (_, i) => ({
      id: i,
      tz: `2024-01-01T00:00:${String(i % 60).padStart(2, '0')}Z`,
      t: `row ${i}`,
    }));
    // Record 1500 has a timestamp PostgreSQL parses but the binary encoder does not take.
    rows[1500]!.tz = '2024-01-01 00:00:00 UTC';
    const out = await kit.execute<Record<string, unknown>>('bulk_insert', {
      table_name: 'mixed',
      records: rows,
    });
    expect(out).toMatchObject({ success: true, records_processed: 2500, batches_processed: 3 });
    const stored = await sql(
      db.url,
      "SELECT id, to_char(tz AT TIME ZONE 'UTC', 'SS') AS s, t FROM mixed ORDER BY n",
    );
    expect(stored).toHaveLength(2500);
    expect(stored.map((r) => r.id)).toEqual(rows.map((r) => r.id));
    expect(stored[1500]).toEqual({ id: 1500, s: '00', t: 'row 1500' });
    expect(stored[2499]).toEqual({ id: 2499, s: '39', t: 'row 2499' });
    if (logFile) {
      const log = readFileSync(logFile, 'utf8').slice(logStart);
      expect(log).toMatch(/COPY "public"\."mixed" \([^)]*\) FROM STDIN WITH \(FORMAT binary\)/);
      expect(log).toMatch(/COPY "public"\."mixed" \([^)]*\) FROM STDIN\n/);
    }
  });

  it('upserts records of several shapes when the stage COPY switches from binary to text', async () => {
    await sql(
      db.url,
      "CREATE TABLE up_mixed (id int PRIMARY KEY, tz timestamptz, note text DEFAULT 'd'); INSERT INTO up_mixed VALUES (1, NULL, 'kept')",
    );
    const logStart = logFile ? statSync(logFile).size : 0;
    const out = await kit.execute<Record<string, unknown>>('bulk_insert', {
      table_name: 'up_mixed',
      upsert_key: ['id'],
      records: [
        { id: 1, tz: '2024-01-01T00:00:00Z' },
        { id: 2, tz: '2024-01-01 01:00:00 UTC', note: 'x' },
        { id: 3, note: 'y' },
      ],
    });
    expect(out).toMatchObject({ success: true, rows_inserted: 2, rows_updated: 1 });
    expect(
      await sql(
        db.url,
        "SELECT id, to_char(tz AT TIME ZONE 'UTC', 'HH24') AS h, note FROM up_mixed ORDER BY id",
      ),
    ).toEqual([
      { id: 1, h: '00', note: 'kept' },
      { id: 2, h: '01', note: 'x' },
      { id: 3, h: null, note: 'y' },
    ]);
    if (logFile) {
      const log = readFileSync(logFile, 'utf8').slice(logStart);
      expect(log).toMatch(
        /COPY pg_temp\."stepflow_upsert_stage" \([^)]*\) FROM STDIN WITH \(FORMAT binary\)/,
      );
      expect(log).toMatch(/COPY pg_temp\."stepflow_upsert_stage" \([^)]*\) FROM STDIN\n/);
    }
  });

  it('maps a failure after the switch to text to its record index, and commits 0 rows', async () => {
    await sql(db.url, 'CREATE TABLE mixed_fail (id int PRIMARY KEY, v varchar(3))');
    const rows: Record<string, unknown>[] = Array.from({ length: 2500 }, (_, i) => ({
      id: i,
      v: 'ok',
    }));
    rows[1200] = { id: '1200', v: 'ok' };
    rows[1800] = { id: 1800, v: 'too long' };
    const out = await kit.execute<Record<string, unknown>>('bulk_insert', {
      table_name: 'mixed_fail',
      records: rows,
    });
    expect(out).toMatchObject({
      success: false,
      sqlstate: '22001',
      record_index: 1800,
      error_code: -32101,
    });
    expect(await sql(db.url, 'SELECT count(*)::int AS n FROM mixed_fail')).toEqual([{ n: 0 }]);
  });

  it('maps a binary-format failure to the record index like the text format', async () => {
    const out = await kit.execute<Record<string, unknown>>('bulk_insert', {
      table_name: 'bin',
      records: [
        { id: 10, v: 'ok' },
        { id: 11, v: 'x'.repeat(21) },
      ],
    });
    expect(out).toMatchObject({
      success: false,
      sqlstate: '22001',
      record_index: 1,
      error_code: -32101,
    });
  });
});
