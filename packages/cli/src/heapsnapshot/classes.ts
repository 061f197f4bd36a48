// Groups a snapshot's objects by class the way Chrome DevTools' Summary view does
// (front_end/entrypoints/heap_snapshot_worker/HeapSnapshot.ts, calculateObjectNames and
// buildAggregates), by node type:
//
//   object, native     the node's own name: the constructor's name (LeakyThing, Map,
//                      Object…), or the embedder's for native nodes ("Node / TCPWrap")
//   hidden             (system)
//   code               (compiled code)
//   closure            Function   (older DevTools: "(closure)")
//   regexp             RegExp     (older DevTools: "(regexp)")
//   any other type     its name in parentheses: (array), (string), (concatenated string),
//                      (sliced string), (number) for heap numbers, (symbol), (bigint),
//                      (object shape), (synthetic), (wasm object)…
//
// Like DevTools, nodes with a self size of 0 are left out (the synthetic roots, some
// read-only objects). Unlike DevTools, same-named constructors from different scripts are
// one group (DevTools splits them by source location), and plain objects stay "Object"
// (DevTools names frequent shapes "{a, b, c}" from their property edges, which are not
// read here).
import type { SnapshotHeader } from './header.js';
import type { HeapSnapshot, SnapshotNodes } from './snapshot.js';
import { sortDistinctPairsInPlace } from './sort.js';

const FIXED_CLASS_NAMES: Readonly<Record<string, string>> = {
  hidden: '(system)',
  code: '(compiled code)',
  closure: 'Function',
  regexp: 'RegExp',
};
const NAMED_TYPES: ReadonlySet<string> = new Set(['object', 'native']);

/** Per node type (by index): its class name, or null when each node's own name is its class. */
export function classNamesByType(nodeTypes: readonly string[]): (string | null)[] {
  return nodeTypes.map((type) => (NAMED_TYPES.has(type) ? null : (FIXED_CLASS_NAMES[type] ?? `(${type})`)));
}

/** The string indexes of the names that are class names: ParseOptions.keepStrings' default. */
export function classNameStrings(nodes: SnapshotNodes, header: SnapshotHeader): number[] {
  const named = classNamesByType(header.nodeTypes).map((name) => name === null);
  const seen = new Set<number>();
  for (let ordinal = 0; ordinal < nodes.count; ordinal++) {
    if (named[nodes.type[ordinal] as number] === true) seen.add(nodes.name[ordinal] as number);
  }
  return [...seen];
}

export interface ClassGroup {
  readonly name: string;
  readonly count: number;
  /** Bytes: the sum of the objects' self sizes. */
  readonly selfSize: number;
}

/** Group numbers, one per object: 2 bytes each while they fit. */
export type GroupNumbers = Uint16Array | Uint32Array;

export interface ClassSummary {
  /** Largest self size first. */
  readonly groups: readonly ClassGroup[];
  /** Ids of the objects counted, ascending (in node order from readClassSummary with sortIds false). */
  readonly ids: Uint32Array;
  /** For each entry of `ids`, the index of its group in `groups` (16 bits while there are few enough groups). */
  readonly groupOf: GroupNumbers;
}

/** Counts and sizes per class, with the id of every object counted. */
export function summarizeByClass(snapshot: HeapSnapshot): ClassSummary {
  const { nodes } = snapshot;
  const classes = new ClassTable(snapshot);
  const ids = new Uint32Array(countSized(nodes));
  const groupOf = new Uint32Array(ids.length);
  let next = 0;
  for (let ordinal = 0; ordinal < nodes.count; ordinal++) {
    if (nodes.selfSize[ordinal] === 0) continue;
    ids[next] = nodes.id[ordinal] as number;
    groupOf[next++] = classes.add(ordinal);
  }
  return finishSummary(classes.groups(), ids, groupOf);
}

/** Renumbers the groups by size (then name), so that groups[0] is the largest, and sorts the ids (groupOf along) unless told not to. */
export function finishSummary(groups: readonly ClassGroup[], ids: Uint32Array, groupOf: GroupNumbers, sortIds = true): ClassSummary {
  const byName = (a: ClassGroup, b: ClassGroup) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const order = groups
    .map((_, group) => group)
    .sort((a, b) => (groups[b] as ClassGroup).selfSize - (groups[a] as ClassGroup).selfSize || byName(groups[a] as ClassGroup, groups[b] as ClassGroup));
  const rank = new Uint32Array(order.length);
  for (const [position, group] of order.entries()) rank[group] = position;
  for (let i = 0; i < groupOf.length; i++) groupOf[i] = rank[groupOf[i] as number] as number;
  // Ids are distinct within a snapshot: the in-place sort needs no scratch.
  if (sortIds) sortDistinctPairsInPlace(ids, groupOf);
  return { groups: order.map((group) => groups[group] as ClassGroup), ids, groupOf };
}

/** The ids of one group's objects, ascending: for inspecting them, or for the three-snapshot technique. */
export function idsOfGroup(summary: ClassSummary, group: number): Uint32Array {
  const { ids, groupOf } = summary;
  const out = new Uint32Array((summary.groups[group] as ClassGroup | undefined)?.count ?? 0);
  let next = 0;
  for (let i = 0; i < ids.length; i++) if (groupOf[i] === group) out[next++] = ids[i] as number;
  return out;
}

/**
 * Counts nodes by class, numbering classes as they are met. One class name is one group
 * even when it comes from several types or string indexes (an object named "Function"
 * joins the closures).
 */
export class ClassTable {
  readonly #snapshot: HeapSnapshot;
  readonly #names: string[] = [];
  readonly #counts: number[] = [];
  readonly #sizes: number[] = [];
  readonly #byName = new Map<string, number>();
  readonly #fixedNames: (string | null)[];
  /** Per type: the group of a fixed-name type, -1 until met, -2 for named types. */
  readonly #byType: Int32Array;
  /** Per string index: the group of that class name, -1 until met. */
  readonly #byString: Int32Array;

  constructor(snapshot: HeapSnapshot) {
    this.#snapshot = snapshot;
    this.#fixedNames = classNamesByType(snapshot.header.nodeTypes);
    this.#byType = Int32Array.from(this.#fixedNames, (name) => (name === null ? -2 : -1));
    this.#byString = new Int32Array(snapshot.stringCount).fill(-1);
  }

  /** Counts one node in its class; returns the class's group number. */
  add(ordinal: number): number {
    const group = this.groupOf(ordinal);
    this.#counts[group] = (this.#counts[group] as number) + 1;
    this.#sizes[group] = (this.#sizes[group] as number) + (this.#snapshot.nodes.selfSize[ordinal] as number);
    return group;
  }

  /** The group number of a node's class, without counting the node. */
  groupOf(ordinal: number): number {
    const { nodes } = this.#snapshot;
    const type = nodes.type[ordinal] as number;
    const byType = this.#byType[type] as number;
    if (byType >= 0) return byType;
    if (byType === -1) return (this.#byType[type] = this.#group(this.#fixedNames[type] as string));
    const name = nodes.name[ordinal] as number;
    const byString = this.#byString[name] as number;
    if (byString >= 0) return byString;
    const className = this.#snapshot.string(name);
    if (className === undefined) throw new Error('class names were not kept: parse with the default keepStrings, or include classNameStrings');
    return (this.#byString[name] = this.#group(className));
  }

  /** A group's class name. */
  name(group: number): string {
    return this.#names[group] as string;
  }

  /** The groups so far, by group number. */
  groups(): ClassGroup[] {
    return this.#names.map((name, group) => ({ name, count: this.#counts[group] as number, selfSize: this.#sizes[group] as number }));
  }

  #group(name: string): number {
    let group = this.#byName.get(name);
    if (group === undefined) {
      group = this.#names.push(name) - 1;
      this.#counts.push(0);
      this.#sizes.push(0);
      this.#byName.set(name, group);
    }
    return group;
  }
}

function countSized(nodes: SnapshotNodes): number {
  let count = 0;
  for (let ordinal = 0; ordinal < nodes.count; ordinal++) if (nodes.selfSize[ordinal] !== 0) count++;
  return count;
}
