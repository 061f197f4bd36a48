// Two snapshots of one process, compared per class: how many objects and bytes each class
// gained, and, by object id, how many of its objects are new and how many were freed
// (DevTools' Comparison view: # New, # Deleted). V8 keeps an object's id for its whole
// life in a process, so an id in both snapshots is the same object.
import { summarizeByClass, type ClassSummary } from './classes.js';
import { parseHeapSnapshot } from './parse.js';
import { rank, type RankOptions } from './rank.js';
import type { ReadOptions, SnapshotSource } from './source.js';

export interface ClassDelta {
  readonly name: string;
  readonly countBefore: number;
  readonly countAfter: number;
  readonly countDelta: number;
  /** Bytes (self sizes). */
  readonly sizeBefore: number;
  readonly sizeAfter: number;
  readonly sizeDelta: number;
  /** Objects in `after` whose id is not in `before`: allocated in between. */
  readonly added: number;
  /** Objects in `before` whose id is not in `after`: freed in between. */
  readonly removed: number;
}

export interface HeapTotals {
  readonly count: number;
  readonly selfSize: number;
}

export interface HeapDiff {
  readonly before: HeapTotals;
  readonly after: HeapTotals;
  /**
   * The highest JavaScript object id in each snapshot (see newestId). Within a process
   * they only grow, so a later snapshot's is higher: lower means the snapshots were
   * given newest first, or come from different processes.
   */
  readonly newestIds: { readonly before: number; readonly after: number };
  /** Classes whose count or size changed, ranked: the largest growth first, shrinking classes last. */
  readonly classes: readonly ClassDelta[];
}

export function diffClassSummaries(before: ClassSummary, after: ClassSummary, options: RankOptions = {}): HeapDiff {
  const rows = new Map<string, MutableDelta>();
  const rowOf = (name: string): MutableDelta => {
    let row = rows.get(name);
    if (row === undefined) {
      row = { name, countBefore: 0, countAfter: 0, countDelta: 0, sizeBefore: 0, sizeAfter: 0, sizeDelta: 0, added: 0, removed: 0 };
      rows.set(name, row);
    }
    return row;
  };
  const beforeRows = before.groups.map((group) => {
    const row = rowOf(group.name);
    row.countBefore = group.count;
    row.sizeBefore = group.selfSize;
    return row;
  });
  const afterRows = after.groups.map((group) => {
    const row = rowOf(group.name);
    row.countAfter = group.count;
    row.sizeAfter = group.selfSize;
    return row;
  });
  // Both id lists ascend: one merge walk finds the new and the freed objects.
  const a = before.ids;
  const b = after.ids;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const idA = i < a.length ? (a[i] as number) : Infinity;
    const idB = j < b.length ? (b[j] as number) : Infinity;
    if (idA < idB) (beforeRows[before.groupOf[i++] as number] as MutableDelta).removed++;
    else if (idB < idA) (afterRows[after.groupOf[j++] as number] as MutableDelta).added++;
    else {
      // The same object; it counts as moved when V8 now names its class differently.
      const from = beforeRows[before.groupOf[i++] as number] as MutableDelta;
      const to = afterRows[after.groupOf[j++] as number] as MutableDelta;
      if (from !== to) {
        from.removed++;
        to.added++;
      }
    }
  }
  const changed: ClassDelta[] = [];
  for (const row of rows.values()) {
    row.countDelta = row.countAfter - row.countBefore;
    row.sizeDelta = row.sizeAfter - row.sizeBefore;
    // Native (embedder) nodes get new ids in every snapshot: churn with no net change is noise here.
    if (row.countDelta !== 0 || row.sizeDelta !== 0) changed.push(row);
  }
  return {
    before: totals(before),
    after: totals(after),
    newestIds: { before: newestId(before.ids), after: newestId(after.ids) },
    classes: rank(changed, (row, by) => (by === 'size' ? row.sizeDelta : row.countDelta), options),
  };
}

/** Reads two snapshots one after the other (one in memory at a time) and compares them. */
export async function diffHeapSnapshots(before: SnapshotSource, after: SnapshotSource, options: RankOptions & ReadOptions = {}): Promise<HeapDiff> {
  const summaryBefore = summarizeByClass(await parseHeapSnapshot(before, options));
  const summaryAfter = summarizeByClass(await parseHeapSnapshot(after, options));
  return diffClassSummaries(summaryBefore, summaryAfter, options);
}

type MutableDelta = { -readonly [K in keyof ClassDelta]: ClassDelta[K] };

/**
 * The highest odd id in ascending ids, 0 for none. V8 numbers JavaScript objects 1, 3,
 * 5… in the order it first sees them; native (embedder) nodes get even ids derived from
 * addresses, which do not grow.
 */
export function newestId(ids: Uint32Array): number {
  for (let i = ids.length - 1; i >= 0; i--) if ((ids[i] as number) % 2 === 1) return ids[i] as number;
  return 0;
}

function totals(summary: ClassSummary): HeapTotals {
  let selfSize = 0;
  for (const group of summary.groups) selfSize += group.selfSize;
  return { count: summary.ids.length, selfSize };
}
