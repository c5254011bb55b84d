/**
 * Optimal string alignment distance: insertions, deletions, substitutions, and transpositions of two adjacent
 * characters (`tokenVerison` → `tokenVersion` is 1), each counting 1, no substring edited twice.
 */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      (rows[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The allowed key a misspelt key most likely means: letter case ignored, at most one edit for keys of up to
 * five characters and two for longer ones; undefined when none is that close or two are equally close.
 */
export function closestKey(key: string, allowed: readonly string[]): string | undefined {
  const limit = key.length <= 5 ? 1 : 2;
  const scored = allowed
    .map((candidate) => ({ candidate, distance: editDistance(key.toLowerCase(), candidate.toLowerCase()) }))
    .filter(({ distance }) => distance <= limit)
    .sort((x, y) => x.distance - y.distance);
  const [first, second] = scored;
  if (!first || (second && second.distance === first.distance)) return undefined;
  return first.candidate;
}
