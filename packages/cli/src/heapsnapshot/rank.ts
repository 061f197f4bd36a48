// Ordering and trimming of per-class rows, shared by the two- and three-snapshot reports.

export type RankBy = 'size' | 'count';

export interface RankOptions {
  /** Order by bytes (default) or by number of objects; largest first. */
  sortBy?: RankBy;
  /** Keep at most this many rows (default: all). */
  limit?: number;
  /** Drop rows whose value in the sortBy unit, bytes or objects, is smaller in magnitude (default 0). */
  threshold?: number;
}

/** Sorts by the chosen value descending (ties: the other value, then name), trims, limits. */
export function rank<T extends { readonly name: string }>(rows: readonly T[], value: (row: T, by: RankBy) => number, options: RankOptions = {}): T[] {
  const by = options.sortBy ?? 'size';
  const other: RankBy = by === 'size' ? 'count' : 'size';
  const threshold = options.threshold ?? 0;
  return rows
    .filter((row) => Math.abs(value(row, by)) >= threshold)
    .sort((a, b) => value(b, by) - value(a, by) || value(b, other) - value(a, other) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, options.limit ?? Infinity);
}
