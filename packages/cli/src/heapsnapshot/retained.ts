// The three-snapshot technique: snapshots A, B, C of one process, taken with the
// suspected leak exercised between them. Objects whose ids are not in A, are in B, and
// are still in C were allocated between A and B and survived everything up to C: the
// leak candidates, without the warm-up (already in A) or the short-lived churn (gone by
// C). It works because V8 keeps an object's id for its whole life in a process.
//
// They are explained in C, where they are still alive: who holds them now (retainers.ts).
import { idsWithout, markByIds, newestId, readSortedIds } from './ids.js';
import { parseHeapSnapshot } from './parse.js';
import type { RankOptions } from './rank.js';
import { reportHolders, retainerStrings, type HolderReport, type RetainerOptions } from './retainers.js';
import type { ReadOptions, SnapshotSource } from './source.js';

export interface RetainedOptions extends RankOptions, ReadOptions, RetainerOptions {
  /** Retainer paths and owners (reads C's edges: about twice the memory); default true. */
  retainers?: boolean;
}

export interface RetainedReport extends HolderReport {
  /** The highest object id in each snapshot: they grow from A to B to C in one process (see newestId). */
  readonly newestIds: { readonly a: number; readonly b: number; readonly c: number };
}

/** Reads A, then B, then C (one in memory at a time; of A and B only ids are kept). */
export async function findRetainedAllocations(a: SnapshotSource, b: SnapshotSource, c: SnapshotSource, options: RetainedOptions = {}): Promise<RetainedReport> {
  const idsA = await readSortedIds(a, options);
  const idsB = await readSortedIds(b, options);
  const newestIds = { a: newestId(idsA), b: newestId(idsB) };
  const newInB = idsWithout(idsB, idsA);
  let explain: Uint8Array = new Uint8Array(0);
  const snapshot = await parseHeapSnapshot(c, {
    ...options,
    edges: options.retainers === false ? 'skip' : 'keep',
    // Runs between C's edges and its strings: only the names the report needs get decoded.
    keepStrings: (read) => retainerStrings(read, (explain = markByIds(read.nodes, newInB, true))),
  });
  return { ...reportHolders(snapshot, explain, options), newestIds: { ...newestIds, c: newestId(snapshot.nodes.id) } };
}
