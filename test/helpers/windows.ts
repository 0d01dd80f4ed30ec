/** Shared by the rate tests: the most events in any window of `widthMs` (the limit a sliding window must hold). */
export function maxInWindow(times: readonly number[], widthMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && sorted[j]! < sorted[i]! + widthMs) j++;
    best = Math.max(best, j - i);
  }
  return best;
}
