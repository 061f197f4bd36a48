// The three-snapshot technique: snapshots A, B, C of one process, taken with the
// suspected leak exercised between them. Objects whose ids are not in A, are in B, and
// are still in C were allocated between A and B and survived everything up to C: the
// leak candidates, without the warm-up (already in A) or the short-lived churn (gone by
// C). It works because V8 keeps an object's id for its whole life in a process.
import { ClassTable, classNamesByType } from './classes.js';
import { newestId, type HeapTotals } from './diff.js';
import type { SnapshotHeader } from './header.js';
import { parseHeapSnapshot } from './parse.js';
import { rank, type RankOptions } from './rank.js';
import type { SnapshotNodes } from './snapshot.js';
import type { ReadOptions, SnapshotSource } from './source.js';

export interface RetainedExample {
  readonly id: number;
  /** The node's own name: the constructor for objects, the text for strings, the function's name for closures. */
  readonly name: string;
  readonly selfSize: number;
}

export interface RetainedClass {
  readonly name: string;
  readonly count: number;
  readonly selfSize: number;
  /** A few of the objects, in snapshot order: ids to look up in B or C (e.g. in DevTools). */
  readonly examples: readonly RetainedExample[];
}

export interface RetainedReport {
  /** All objects allocated between A and B and still alive in C. */
  readonly total: HeapTotals;
  /** The highest object id in each snapshot: they grow from A to B to C in one process (see HeapDiff). */
  readonly newestIds: { readonly a: number; readonly b: number; readonly c: number };
  readonly classes: readonly RetainedClass[];
}

export interface RetainedOptions extends RankOptions, ReadOptions {
  /** Examples per class (default DEFAULT_EXAMPLES). */
  examples?: number;
}

export const DEFAULT_EXAMPLES = 3;

/** Reads A, then C, then B (one in memory at a time; of A and C only the ids are kept). */
export async function findRetainedAllocations(
  a: SnapshotSource,
  b: SnapshotSource,
  c: SnapshotSource,
  options: RetainedOptions = {},
): Promise<RetainedReport> {
  const examplesPerClass = options.examples ?? DEFAULT_EXAMPLES;
  const idsA = await readSortedIds(a, options);
  const idsC = await readSortedIds(c, options);
  const picker = new RetainedPicker(idsA, idsC, examplesPerClass);
  // keepStrings runs between B's nodes and its strings: only the names shown get decoded.
  const snapshot = await parseHeapSnapshot(b, { ...options, keepStrings: (nodes, header) => picker.pick(nodes, header) });
  const { retained, examples } = picker;
  const { nodes } = snapshot;
  const classes = new ClassTable(snapshot);
  const examplesByGroup: RetainedExample[][] = [];
  let count = 0;
  let selfSize = 0;
  for (const ordinal of retained) {
    const group = classes.add(ordinal);
    count++;
    selfSize += nodes.selfSize[ordinal] as number;
    const list = (examplesByGroup[group] ??= []);
    if (examples.has(ordinal) && list.length < examplesPerClass) {
      list.push({ id: nodes.id[ordinal] as number, name: snapshot.string(nodes.name[ordinal] as number) ?? '', selfSize: nodes.selfSize[ordinal] as number });
    }
  }
  const rows = classes.groups().map((group, index) => ({ ...group, examples: examplesByGroup[index] ?? [] }));
  let newestB = 0;
  // Odd ids only: see newestId.
  for (const id of nodes.id) if (id % 2 === 1 && id > newestB) newestB = id;
  return {
    total: { count, selfSize },
    newestIds: { a: newestId(idsA), b: newestB, c: newestId(idsC) },
    classes: rank(rows, (row, by) => (by === 'size' ? row.selfSize : row.count), options),
  };
}

/** Finds B's nodes that are not in A and are in C, and the examples to name. */
class RetainedPicker {
  /** Ordinals in B of the objects allocated between A and B and alive in C. */
  retained = new Uint32Array(0);
  /** The ordinals of those whose names the report shows. */
  readonly examples = new Set<number>();
  readonly #idsA: Uint32Array;
  readonly #idsC: Uint32Array;
  readonly #examplesPerClass: number;

  constructor(idsA: Uint32Array, idsC: Uint32Array, examplesPerClass: number) {
    this.#idsA = idsA;
    this.#idsC = idsC;
    this.#examplesPerClass = examplesPerClass;
  }

  /** Returns the string indexes to decode: the class names and the examples' names. */
  pick(nodes: SnapshotNodes, header: SnapshotHeader): number[] {
    const named = classNamesByType(header.nodeTypes).map((name) => name === null);
    const found: number[] = [];
    const strings = new Set<number>();
    // Examples per class, counted before names are known: the key is the name's string
    // index for named types, minus one minus the type for the others.
    const examplesPerKey = new Map<number, number>();
    for (let ordinal = 0; ordinal < nodes.count; ordinal++) {
      const id = nodes.id[ordinal] as number;
      if (nodes.selfSize[ordinal] === 0 || contains(this.#idsA, id) || !contains(this.#idsC, id)) continue;
      found.push(ordinal);
      const type = nodes.type[ordinal] as number;
      const name = nodes.name[ordinal] as number;
      const key = named[type] === true ? name : -1 - type;
      if (key >= 0) strings.add(key);
      const shown = examplesPerKey.get(key) ?? 0;
      if (shown < this.#examplesPerClass) {
        examplesPerKey.set(key, shown + 1);
        this.examples.add(ordinal);
        strings.add(name);
      }
    }
    this.retained = Uint32Array.from(found);
    return [...strings];
  }
}

async function readSortedIds(source: SnapshotSource, options: ReadOptions): Promise<Uint32Array> {
  const snapshot = await parseHeapSnapshot(source, { ...options, keepStrings: () => [] });
  return snapshot.nodes.id.slice().sort();
}

/** Binary search in ascending ids. */
function contains(ids: Uint32Array, id: number): boolean {
  let low = 0;
  let high = ids.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const at = ids[middle] as number;
    if (at < id) low = middle + 1;
    else if (at > id) high = middle - 1;
    else return true;
  }
  return false;
}
