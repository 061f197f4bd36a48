// Object ids across snapshots of one process. V8 keeps an object's id for its whole life
// in a process, so an id in two snapshots is the same object: sorted id lists answer
// "was it there before?" by binary search, 4 bytes an object.
import { readNodeIds } from './parse.js';
import type { SnapshotNodes } from './snapshot.js';
import { sortDistinctPairsInPlace, sortKeys } from './sort.js';
import type { ReadOptions, SnapshotSource } from './source.js';

/** A snapshot's object ids, ascending. */
export async function readSortedIds(source: SnapshotSource, options: ReadOptions = {}): Promise<Uint32Array> {
  const ids = await readNodeIds(source, options);
  sortKeys(ids);
  return ids;
}

/**
 * The highest odd id, 0 for none; `ids` in any order. V8 numbers JavaScript objects 1, 3,
 * 5… in the order it first sees them; native (embedder) nodes get even ids derived from
 * addresses, which do not grow. Within a process a later snapshot's is higher: lower
 * means the snapshots were given newest first, or come from different processes.
 */
export function newestId(ids: Uint32Array): number {
  let newest = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    if (id % 2 === 1 && id > newest) newest = id;
  }
  return newest;
}

/** The ids of `ids` that are not in `without`; both ascending, and so is the result. */
export function idsWithout(ids: Uint32Array, without: Uint32Array): Uint32Array {
  const kept = new Uint32Array(ids.length);
  let count = 0;
  let j = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    while (j < without.length && (without[j] as number) < id) j++;
    if (j >= without.length || without[j] !== id) kept[count++] = id;
  }
  return kept.slice(0, count);
}

/**
 * Per node ordinal, 1 where the node's id is (or with `inList` false: is not) in the
 * ascending `ids`. A snapshot lists nodes in runs of ascending ids, so each search starts
 * from where the last one ended and gallops: a few steps per node, not a whole binary search.
 */
export function markByIds(nodes: SnapshotNodes, ids: Uint32Array, inList: boolean): Uint8Array {
  const marks = new Uint8Array(nodes.count);
  let at = 0;
  for (let ordinal = 0; ordinal < nodes.count; ordinal++) {
    const id = nodes.id[ordinal] as number;
    at = lowerBound(ids, id, at);
    if ((ids[at] === id) === inList) marks[ordinal] = 1;
  }
  return marks;
}

/** The first position in ascending `ids` whose id is not below `id`, searched outwards from `hint`. */
function lowerBound(ids: Uint32Array, id: number, hint: number): number {
  let low: number;
  let high: number;
  if (hint < ids.length && (ids[hint] as number) < id) {
    // Gallop up: the answer is above the hint.
    let step = 1;
    low = hint + 1;
    high = hint + step;
    while (high < ids.length && (ids[high] as number) < id) {
      low = high + 1;
      step *= 2;
      high = hint + step;
    }
    high = Math.min(high, ids.length);
  } else {
    // Gallop down: the answer is at or below the hint.
    let step = 1;
    high = Math.min(hint, ids.length);
    low = high - step;
    while (low > 0 && (ids[low - 1] as number) >= id) {
      high = low;
      step *= 2;
      low = high - step;
    }
    low = Math.max(low, 0);
  }
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((ids[middle] as number) < id) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * A's objects by id, for looking up each of B's: which group (class) an id had in A, or
 * -1. JavaScript objects have odd ids numbered from 1 as V8 first sees them, so a table
 * indexed by id / 2 answers in one step and needs no sort: used when it costs no more
 * than 2 entries per object. The rest (native nodes' even ids, derived from addresses;
 * or every id, in a process whose ids have grown far past its object count) are sorted
 * and searched.
 */
export class GroupById {
  readonly #table: Uint16Array | Uint32Array;
  readonly #sortedIds: Uint32Array;
  readonly #sortedGroups: Uint16Array | Uint32Array;
  #hint = 0;

  /** `ids` distinct, in any order; `groupOf[i]` is the group of `ids[i]`, below `groupCount`. */
  constructor(ids: Uint32Array, groupOf: Uint16Array | Uint32Array, groupCount: number) {
    let tableSize = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      if (id % 2 === 1 && id >>> 1 >= tableSize) tableSize = (id >>> 1) + 1;
    }
    if (tableSize > 2 * ids.length) tableSize = 0;
    // Entries hold the group plus one: 0 is "no object with this id".
    const table = groupCount < 0xffff ? new Uint16Array(tableSize) : new Uint32Array(tableSize);
    let rest = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      // A malformed file may repeat an id: the first one counts, as in a search of sorted ids.
      if (id % 2 === 1 && id >>> 1 < tableSize) {
        if (table[id >>> 1] === 0) table[id >>> 1] = (groupOf[i] as number) + 1;
      } else rest++;
    }
    const sortedIds = new Uint32Array(rest);
    const sortedGroups = groupCount < 0xffff ? new Uint16Array(rest) : new Uint32Array(rest);
    let next = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      if (id % 2 === 1 && id >>> 1 < tableSize) continue;
      sortedIds[next] = id;
      sortedGroups[next++] = groupOf[i] as number;
    }
    sortDistinctPairsInPlace(sortedIds, sortedGroups);
    this.#table = table;
    this.#sortedIds = sortedIds;
    this.#sortedGroups = sortedGroups;
  }

  /** The group `id` had, or -1. Fastest when ids come in runs, as a snapshot's nodes do. */
  groupOf(id: number): number {
    if (id % 2 === 1 && id >>> 1 < this.#table.length) return (this.#table[id >>> 1] as number) - 1;
    const at = (this.#hint = lowerBound(this.#sortedIds, id, this.#hint));
    return this.#sortedIds[at] === id ? (this.#sortedGroups[at] as number) : -1;
  }
}
