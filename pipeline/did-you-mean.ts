/**
 * Edit distance between two strings (optimal string alignment: insertions, deletions, substitutions and
 * transpositions of adjacent characters each cost 1). Bounded by `limit`: returns `limit + 1` as soon as the
 * distance is known to exceed it, so comparing against long candidate lists stays cheap.
 */
export function editDistance(a: string, b: string, limit = Number.MAX_SAFE_INTEGER): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previousPrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMinimum = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, (previousPrevious[j - 2] ?? 0) + 1);
      }
      current.push(value);
      rowMinimum = Math.min(rowMinimum, value);
    }
    if (rowMinimum > limit) return limit + 1;
    previousPrevious = previous;
    previous = current;
  }
  return previous[b.length] ?? limit + 1;
}

/**
 * The candidate closest to `word`, if it is close enough to be a plausible typo: at most one edit for short
 * words, two for words of six or more characters, three from twelve. Case differences alone always match.
 * Ties go to the earliest candidate, so suggestions are deterministic.
 */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  const lowered = word.toLowerCase();
  const limit = word.length >= 12 ? 3 : word.length >= 6 ? 2 : 1;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const distance = candidate.toLowerCase() === lowered ? 0 : editDistance(lowered, candidate.toLowerCase(), limit);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** ` (did you mean 'x'?)` when a close candidate exists, else `''`. For appending to messages. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const match = closestMatch(word, candidates);
  return match === undefined ? '' : ` (did you mean '${match}'?)`;
}

/** Lists names for a message: `a, b, c`, truncated to `max` names with a count of the rest. */
export function listNames(names: readonly string[], max = 12): string {
  if (names.length === 0) return '(none)';
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown}, … (${names.length - max} more)` : shown;
}
