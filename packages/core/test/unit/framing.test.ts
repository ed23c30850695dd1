import { describe, expect, it } from 'vitest';
import { LineFramer, recoverId } from '../../src/index.js';

function collect(max = 1024) {
  const lines: string[] = [];
  const oversize: { head: string; size: number }[] = [];
  const framer = new LineFramer(max, {
    line: (l) => lines.push(l),
    oversize: (head, size) => oversize.push({ head, size }),
  });
  return { framer, lines, oversize };
}

describe('LineFramer', () => {
  it('splits on \\n and strips a trailing \\r', () => {
    const { framer, lines } = collect();
    framer.push(Buffer.from('{"a":1}\r\n{"b":2}\n{"c"'));
    framer.push(Buffer.from(':3}\n'));
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('decodes UTF-8 only at line boundaries (multi-byte characters split across chunks)', () => {
    const { framer, lines } = collect();
    const bytes = Buffer.from('"é😀中\u2028"\n');
    for (const byte of bytes) framer.push(Buffer.from([byte]));
    expect(lines).toEqual(['"é😀中\u2028"']);
  });

  it('skips empty lines', () => {
    const { framer, lines } = collect();
    framer.push(Buffer.from('\n\r\n{"x":1}\n'));
    expect(lines).toEqual(['{"x":1}']);
  });

  it('discards an oversize frame as it streams, keeping its head, then resumes', () => {
    const { framer, lines, oversize } = collect(100);
    framer.push(Buffer.from('{"jsonrpc":"2.0","id":"big","params":"'));
    framer.push(Buffer.alloc(500, 'x'));
    framer.push(Buffer.from('"}\n{"ok":true}\n'));
    expect(oversize).toHaveLength(1);
    expect(oversize[0]!.head.startsWith('{"jsonrpc":"2.0","id":"big"')).toBe(true);
    expect(oversize[0]!.size).toBeGreaterThan(500);
    expect(lines).toEqual(['{"ok":true}']);
  });

  it('delivers a final unterminated frame at end of input', () => {
    const { framer, lines } = collect();
    framer.push(Buffer.from('{"last":1}'));
    framer.end();
    expect(lines).toEqual(['{"last":1}']);
  });

  // The 500 ms target is measured by bench/faults.mjs; quadratic framing would take minutes.
  it('frames 50 MiB arriving in 64 KiB chunks in linear time (≤ 2.5 s)', () => {
    const { framer, lines } = collect(64 * 1024 * 1024);
    const payload = Buffer.alloc(50 * 1024 * 1024, 'a');
    const started = performance.now();
    for (let i = 0; i < payload.length; i += 64 * 1024)
      framer.push(payload.subarray(i, i + 64 * 1024));
    framer.push(Buffer.from('\n'));
    const elapsed = performance.now() - started;
    expect(lines[0]!.length).toBe(payload.length);
    expect(elapsed).toBeLessThan(2500);
  });
});

describe('recoverId', () => {
  it.each([
    ['{"jsonrpc":"2.0","id":"abc","method":"x"', 'abc'],
    ['{"jsonrpc":"2.0","id":42,"method":"x","params":{"trunc', 42],
    ['{"params":{"id":"inner"},"id":"outer","method', 'outer'],
    ['{"params":{"id":"inner"}', undefined],
    ['{"id":null,"method":"x"}', undefined],
    ['{"id":1.5,"method":"x"}', undefined],
    ['{"id":"esc\\"aped","x', 'esc"aped'],
    ['garbage', undefined],
  ])('recovers the top-level id of %s', (head, expected) => {
    expect(recoverId(head)).toBe(expected);
  });
});
