/**
 * Order statistics for the figures: percentiles of sorted samples and medians of runs.
 */

/** The nearest-rank percentile `q` (0..1) of ascending `sorted`; `NaN` when empty. */
export const percentile = (sorted: ArrayLike<number>, q: number): number => {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank] ?? Number.NaN
}

/** The median of the finite values; `undefined` when there are none. */
export const median = (values: ReadonlyArray<number | undefined>): number | undefined => {
  const finite = values.filter((value): value is number => value !== undefined && Number.isFinite(value))
  if (finite.length === 0) return undefined
  const sorted = [...finite].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2
}
