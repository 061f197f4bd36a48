// Two snapshots of one process, compared per class: how many objects and bytes each class
// gained, and, by object id, how many of its objects are new and how many were freed
// (DevTools' Comparison view: # New, # Deleted). V8 keeps an object's id for its whole
// life in a process, so an id in both snapshots is the same object. On request, the
// objects new in B are also explained: who holds them (retainers.ts).
import { readClassSummary } from './census.js';
import { summarizeByClass, type ClassSummary } from './classes.js';
import { GroupById, markByIds, newestId } from './ids.js';
import { parseHeapSnapshot } from './parse.js';
import { rank, type RankOptions } from './rank.js';
import { reportHolders, retainerStrings, type HolderReport, type RetainerOptions } from './retainers.js';
import type { HeapTotals } from './snapshot.js';
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

export interface HeapDiff {
  readonly before: HeapTotals;
  readonly after: HeapTotals;
  /** The highest JavaScript object id in each snapshot: it grows from A to B in one process (see newestId). */
  readonly newestIds: { readonly before: number; readonly after: number };
  /** Classes whose count or size changed, ranked: the largest growth first, shrinking classes last. */
  readonly classes: readonly ClassDelta[];
  /** With DiffOptions.retainers: the objects in B that A did not have, by holder. */
  readonly newObjects: HolderReport | null;
}

export interface DiffOptions extends RankOptions, ReadOptions, RetainerOptions {
  /** Also explain the objects new in B: reads B's edges (about twice the memory and time); default false. */
  retainers?: boolean;
}

/** The two summaries' ids may be in any order. */
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
  // Rows by number, for the loop below: it runs once per object of B.
  const rowList = [...rows.values()];
  const rowNumber = new Map(rowList.map((row, index) => [row, index]));
  const rowOfBefore = Uint32Array.from(beforeRows, (row) => rowNumber.get(row) as number);
  const rowOfAfter = Uint32Array.from(afterRows, (row) => rowNumber.get(row) as number);
  // Each object of B looked up among A's: new, or still there (in the same class, or moved
  // when V8 now names its class differently). A's objects not found in their class were
  // freed. Neither summary's ids need an order.
  const survivors = new Float64Array(before.groups.length);
  const added = new Float64Array(rowList.length);
  const inBefore = new GroupById(before.ids, before.groupOf, before.groups.length);
  const { ids: idsAfter, groupOf: groupAfter } = after;
  for (let j = 0; j < idsAfter.length; j++) {
    const to = rowOfAfter[groupAfter[j] as number] as number;
    const group = inBefore.groupOf(idsAfter[j] as number);
    if (group !== -1 && rowOfBefore[group] === to) survivors[group] = (survivors[group] as number) + 1;
    else added[to] = (added[to] as number) + 1;
  }
  for (const [index, row] of rowList.entries()) row.added = added[index] as number;
  for (const [index, group] of before.groups.entries()) (beforeRows[index] as MutableDelta).removed += group.count - (survivors[index] as number);
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
    newObjects: null,
  };
}

/** Reads two snapshots one after the other (of A only ids and classes stay in memory, 8 bytes an object) and compares them. */
export async function diffHeapSnapshots(before: SnapshotSource, after: SnapshotSource, options: DiffOptions = {}): Promise<HeapDiff> {
  // Sorted only for markByIds below: the class diff itself needs no order.
  const summaryBefore = await readClassSummary(before, { ...options, sortIds: options.retainers === true });
  if (options.retainers !== true) return diffClassSummaries(summaryBefore, await readClassSummary(after, { ...options, sortIds: false }), options);
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
