// Two snapshots of one process, compared per class: how many objects and bytes each class
// gained, and, by object id, how many of its objects are new and how many were freed
// (DevTools' Comparison view: # New, # Deleted). V8 keeps an object's id for its whole
// life in a process, so an id in both snapshots is the same object. On request, the
// objects new in B are also explained: who holds them (retainers.ts).
import { summarizeByClass, summarizeByClassOver, type ClassSummary } from './classes.js';
import { markByIds } from './ids.js';
import { parseHeapSnapshot } from './parse.js';
import { rank, type RankOptions } from './rank.js';
import { reportHolders, retainerStrings, type HolderReport, type RetainerOptions } from './retainers.js';
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
  /** Classes whose count or size changed, ranked: the largest growth first, shrinking classes last. */
  readonly classes: readonly ClassDelta[];
  /** With DiffOptions.retainers: the objects in B that A did not have, by holder. */
  readonly newObjects: HolderReport | null;
}

export interface DiffOptions extends RankOptions, ReadOptions, RetainerOptions {
  /** Also explain the objects new in B: reads B's edges (about twice the memory and time); default false. */
  retainers?: boolean;
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
    classes: rank(changed, (row, by) => (by === 'size' ? row.sizeDelta : row.countDelta), options),
    newObjects: null,
  };
}

/**
 * A snapshot's class census, reading no edges and keeping 8 bytes a node; with the
 * memory it no longer needs, for the next one.
 */
async function readClassSummary(source: SnapshotSource, options: ReadOptions & { spare?: ArrayBuffer }): Promise<{ summary: ClassSummary; spare: ArrayBuffer }> {
  const snapshot = await parseHeapSnapshot(source, { ...options, edges: 'skip' });
  return { summary: summarizeByClassOver(snapshot), spare: snapshot.nodes.selfSize.buffer as ArrayBuffer };
}

/** Reads two snapshots one after the other (of A only ids and classes stay in memory) and compares them. */
export async function diffHeapSnapshots(before: SnapshotSource, after: SnapshotSource, options: DiffOptions = {}): Promise<HeapDiff> {
  const { summary: summaryBefore, spare } = await readClassSummary(before, options);
  if (options.retainers !== true) return diffClassSummaries(summaryBefore, (await readClassSummary(after, { ...options, spare })).summary, options);
  let explain: Uint8Array = new Uint8Array(0);
  const snapshot = await parseHeapSnapshot(after, {
    ...options,
    edges: 'keep',
    keepStrings: (read) => retainerStrings(read, (explain = markByIds(read.nodes, summaryBefore.ids, false))),
  });
  const diff = diffClassSummaries(summaryBefore, summarizeByClass(snapshot), options);
  return { ...diff, newObjects: reportHolders(snapshot, explain, options) };
}

type MutableDelta = { -readonly [K in keyof ClassDelta]: ClassDelta[K] };

function totals(summary: ClassSummary): HeapTotals {
  let selfSize = 0;
  for (const group of summary.groups) selfSize += group.selfSize;
  return { count: summary.ids.length, selfSize };
}
