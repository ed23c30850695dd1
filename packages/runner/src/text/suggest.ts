/**
 * "Did you mean …?" suggestions: the optimal-string-alignment (restricted Damerau–Levenshtein)
 * distance, and the nearest candidates of a mistyped name.
 */

/** Edits (insert, delete, substitute, swap two adjacent characters) turning `a` into `b`. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  // Three rolling rows: i-2, i-1, i.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, before[j - 2]! + 1);
      current[j] = d;
    }
    [before, previous, current] = [previous, current, before];
  }
  return previous[b.length]!;
}

/**
 * The candidates nearest to `name` (at most `limit`, all at the smallest distance), among those
 * close enough to be a plausible typo: distance at most max(1, ⌊length / 3⌋), or differing only
 * in case.
 */
export function nearest(name: string, candidates: Iterable<string>, limit = 3): string[] {
  const budget = Math.max(1, Math.floor(name.length / 3));
  const scored: { candidate: string; distance: number }[] = [];
  for (const candidate of new Set(candidates)) {
    if (candidate === name) continue;
    const distance =
      candidate.toLowerCase() === name.toLowerCase() ? 0.5 : editDistance(name, candidate);
    if (distance <= budget) scored.push({ candidate, distance });
  }
  // Only the closest ones: a runner-up is rarely what was meant.
  const best = Math.min(...scored.map((s) => s.distance));
  return scored
    .filter((s) => s.distance === best)
    .sort((x, y) => x.candidate.localeCompare(y.candidate))
    .slice(0, limit)
    .map((s) => s.candidate);
}

/** ` (did you mean "x"?)` / ` (did you mean "x" or "y"?)`, or '' when nothing is close. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const hits = nearest(name, candidates);
  if (hits.length === 0) return '';
  const quoted = hits.map((h) => JSON.stringify(h));
  const list =
    quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`;
  return ` (did you mean ${list}?)`;
}
