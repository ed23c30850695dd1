import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance, nearest } from '../src/text/suggest.js';

describe('suggestions', () => {
  it('counts insertions, deletions, substitutions and adjacent swaps as one edit each', () => {
    expect(editDistance('add', 'add')).toBe(0);
    expect(editDistance('ad', 'add')).toBe(1);
    expect(editDistance('adx', 'add')).toBe(1);
    expect(editDistance('dad', 'add')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('suggests only close names, the closest first', () => {
    expect(nearest('ad', ['add', 'sub', 'mul'])).toEqual(['add']);
    expect(nearest('/math/ad', ['/math/add', '/math/and', '/data/x'])).toEqual([
      '/math/add',
      '/math/and',
    ]);
    expect(nearest('zzz', ['add', 'sub'])).toEqual([]);
    expect(didYouMean('Add', ['add'])).toBe(' (did you mean "add"?)');
    expect(didYouMean('q', ['add'])).toBe('');
  });
});
