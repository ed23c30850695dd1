import { describe, expect, it } from 'vitest';
import { dataKit, failure, json } from './helpers.js';

interface Parsed {
  records: Record<string, unknown>[];
  columns: string[];
  errors: { path: string; reason: string; message: string }[];
  stats: Record<string, number>;
}

interface Formatted {
  csv: string;
  columns: string[];
  stats: Record<string, number>;
}

describe('parse_csv', () => {
  const kit = dataKit();
  const parse = (input: Record<string, unknown>) => kit.execute<Parsed>('parse_csv', input);

  it('parses a header row, quoted fields with delimiters, quotes and newlines', async () => {
    const out = await parse({
      csv: 'name,note\r\nAda,"likes ""maths"", poetry"\r\nAlan,"two\nlines"\r\n',
    });
    expect(out.columns).toEqual(['name', 'note']);
    expect(out.records).toEqual([
      { name: 'Ada', note: 'likes "maths", poetry' },
      { name: 'Alan', note: 'two\nlines' },
    ]);
    expect(out.stats).toEqual({ records_in: 2, records_out: 2, records_errored: 0 });
  });

  it('supports another delimiter and quote, no header, and type inference', async () => {
    const out = await parse({
      csv: "1;'a;b';true\n-2.5e1;;false\n",
      header: false,
      delimiter: ';',
      quote: "'",
      infer_types: true,
    });
    expect(out.columns).toEqual(['column_1', 'column_2', 'column_3']);
    expect(out.records).toEqual([
      { column_1: 1, column_2: 'a;b', column_3: true },
      { column_1: -25, column_2: null, column_3: false },
    ]);
  });

  it('uses the given column names instead of the header row', async () => {
    const out = await parse({ csv: 'x,y\n1,2\n', columns: ['a', 'b'] });
    expect(out.records).toEqual([{ a: '1', b: '2' }]);
  });

  it('keeps Unicode intact across chunk boundaries and drops a byte order mark', async () => {
    const cell = '😀é中'.repeat(30_000);
    const out = await parse({ csv: `\ufeffk\n${cell}\n` });
    expect(out.columns).toEqual(['k']);
    expect(out.records[0]!.k).toBe(cell);
  });

  it('reports rows with the wrong number of fields as records[i] with the line number', async () => {
    const out = await parse({ csv: 'a,b\n1,2\n3\n4,5,6\n7,8\n' });
    expect(out.records).toEqual([
      { a: '1', b: '2' },
      { a: '7', b: '8' },
    ]);
    expect(out.errors.map((e) => e.message)).toEqual([
      'records[1]: line 3 has 1 fields; expected 2',
      'records[2]: line 4 has 3 fields; expected 2',
    ]);
    expect(out.stats).toEqual({ records_in: 4, records_out: 2, records_errored: 2 });
  });

  it('makes __proto__, constructor and prototype headers ordinary keys', async () => {
    const out = await parse({ csv: '__proto__,constructor,prototype\n1,2,3\n' });
    expect(JSON.stringify(out.records)).toBe(
      '[{"__proto__":"1","constructor":"2","prototype":"3"}]',
    );
  });

  it('answers -32103 duplicate_column instead of silently dropping a column', async () => {
    const error = await failure(kit, 'parse_csv', { csv: 'a,b,a\n1,2,3\n' });
    expect(error).toMatchObject({
      code: -32103,
      data: { reason: 'duplicate_column', column: 'a' },
    });
  });

  it('answers -32101 csv_syntax with the line for an unclosed quote', async () => {
    const error = await failure(kit, 'parse_csv', { csv: 'a\n"open\n' });
    expect(error).toMatchObject({
      code: -32101,
      data: { reason: 'csv_syntax', csv_code: 'CSV_QUOTE_NOT_CLOSED' },
    });
  });

  it('answers -32103 too_many_records while parsing, past maxRecords rows', async () => {
    const error = await failure(dataKit({ maxRecords: 3 }), 'parse_csv', {
      csv: 'a\n1\n2\n3\n4\n5\n',
    });
    expect(error).toMatchObject({
      code: -32103,
      data: { reason: 'too_many_records', limit: 3, actual: 4 },
    });
  });

  it('answers -32103 output_too_large when wide headers would blow up the output', async () => {
    const header = Array.from({ length: 200 }, (_, i) => `a_rather_long_column_name_${i}`).join(
      ',',
    );
    const row = ','.repeat(199);
    const csv = `${header}\n${`${row}\n`.repeat(100)}`;
    const error = await failure(dataKit({ maxOutputBytes: 64 * 1024 }), 'parse_csv', { csv });
    expect(error).toMatchObject({ code: -32103, data: { reason: 'output_too_large' } });
  });

  it('answers -32003 when given column names repeat', async () => {
    const error = await failure(kit, 'parse_csv', { csv: '', columns: ['a', 'a'] });
    expect(error).toMatchObject({
      code: -32003,
      message: 'input.columns: column names must be distinct',
    });
  });
});

describe('format_csv', () => {
  const kit = dataKit();
  const format = (input: Record<string, unknown>) => kit.execute<Formatted>('format_csv', input);

  it('writes a header of every key in first-appearance order and quotes when needed', async () => {
    const out = await format({
      records: [
        { a: 'x,y', b: 1 },
        { c: true, a: 'say "hi"' },
        { b: null, d: { n: [1] } },
      ],
    });
    expect(out.columns).toEqual(['a', 'b', 'c', 'd']);
    expect(out.csv).toBe('a,b,c,d\n"x,y",1,,\n"say ""hi""",,true,\n,,,"{""n"":[1]}"\n');
  });

  it('follows columns, delimiter, quoting and windows line endings', async () => {
    const out = await format({
      records: [{ a: 1, b: 2, c: 3 }],
      columns: ['c', 'a'],
      delimiter: ';',
      quoted: true,
      record_delimiter: 'windows',
      header: false,
    });
    expect(out.csv).toBe('"3";"1"\r\n');
  });

  it('escapes spreadsheet formulas on request', async () => {
    const out = await format({ records: [{ f: '=1+1' }], escape_formulas: true });
    expect(out.csv).toBe("f\n'=1+1\n");
  });

  it('round-trips through parse_csv, including __proto__ columns and Unicode', async () => {
    const records = json<Record<string, string>[]>(
      '[{"__proto__":"é😀","note":"a,\\"b\\"\\nc"},{"__proto__":"","note":"x"}]',
    );
    const formatted = await format({ records });
    const parsed = await kit.execute<Parsed>('parse_csv', { csv: formatted.csv });
    expect(JSON.stringify(parsed.records)).toBe(JSON.stringify(records));
  });

  it('answers -32103 output_too_large past maxOutputBytes', async () => {
    const records = Array.from({ length: 2000 }, (_, i) => ({ i, text: 'x'.repeat(100) }));
    const error = await failure(dataKit({ maxOutputBytes: 32 * 1024 }), 'format_csv', { records });
    expect(error).toMatchObject({
      code: -32103,
      data: { reason: 'output_too_large', limit: 32 * 1024 },
    });
  });

  it('answers -32003 naming the record that is not an object', async () => {
    const error = await failure(kit, 'format_csv', { records: [{}, 'x'] });
    expect(error).toMatchObject({ code: -32003, message: 'input.records[1]: expected an object' });
  });
});
