// Object ids across snapshots of one process. V8 keeps an object's id for its whole life
// in a process, so an id in two snapshots is the same object: sorted id lists answer
// "was it there before?" by binary search, 4 bytes an object.
import { readNodeIds, type SnapshotNodes } from './parse.js';
import type { ReadOptions, SnapshotSource } from './source.js';

/** A snapshot's object ids, ascending. */
export async function readSortedIds(source: SnapshotSource, options: ReadOptions = {}): Promise<Uint32Array> {
  return (await readNodeIds(source, options)).sort();
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

/** Per node ordinal, 1 where the node's id is (or with `inList` false: is not) in the ascending `ids`. */
export function markByIds(nodes: SnapshotNodes, ids: Uint32Array, inList: boolean): Uint8Array {
  const marks = new Uint8Array(nodes.count);
  for (let ordinal = 0; ordinal < nodes.count; ordinal++) if (containsId(ids, nodes.id[ordinal] as number) === inList) marks[ordinal] = 1;
  return marks;
}

/** Binary search in ascending ids. */
export function containsId(ids: Uint32Array, id: number): boolean {
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
