// What makes two retainer paths "the same path": the hops from the root, each an edge
// type, an edge name and the class of the node it leads to, with the names that vary
// from one object to the next left out: array indices, hash-table slots (how a Map's
// entries and a Set's members appear) and the keys of an object used as a dictionary
// (one with more than KEYED_MIN_PROPERTIES properties: a record has a few dozen at most;
// not a global object, whose properties are the program's global variables). A run of
// identical hops counts once, so the nodes of one linked list share a path.
//
// A path is kept as a 53-bit hash: two 32-bit lanes (the second cut to 21 bits), so two
// different paths in one report share a hash with a chance of about 2^-53.
import type { ClassTable } from './classes.js';
import { kindsOf, type EdgeKinds } from './kinds.js';
import { NO_NODE, ROOT, type RetainerTree, type SnapshotGraph } from './paths.js';

const KEYED_MIN_PROPERTIES = 64;

const INDEX = -1;
const KEY = -2;
const LANE_2 = 0x9e37_79b9;
const LOW_BITS = 2 ** 21;

interface Known {
  readonly path: number;
  readonly hop: number;
}

export class PathSignatures {
  readonly #graph: SnapshotGraph;
  readonly #tree: RetainerTree;
  readonly #classes: ClassTable;
  readonly #kinds: EdgeKinds;
  readonly #globals = new Set<number>();
  /** Ancestors met on the way up, with their path and last hop. */
  readonly #memo = new Map<number, Known>();
  readonly #keyed = new Map<number, boolean>();

  constructor(graph: SnapshotGraph, tree: RetainerTree, classes: ClassTable) {
    this.#graph = graph;
    this.#tree = tree;
    this.#classes = classes;
    this.#kinds = kindsOf(graph.header).edge;
    const { firstEdge, toNode, type } = graph.edges;
    for (let edge = firstEdge[ROOT] as number; edge < (firstEdge[ROOT + 1] as number); edge++) {
      if (type[edge] === this.#kinds.shortcut) this.#globals.add(toNode[edge] as number);
    }
  }

  /** The path signature of a node that a path reaches. */
  of(node: number): number {
    const memo = this.#memo;
    const known = memo.get(node);
    if (known !== undefined) return known.path;
    const { parentNode } = this.#tree;
    const chain: number[] = [];
    let at = node;
    while (at !== NO_NODE && !memo.has(at)) {
      chain.push(at);
      at = parentNode[at] as number;
    }
    let above = at === NO_NODE ? { path: 0, hop: 0 } : (memo.get(at) as Known);
    for (let i = chain.length - 1; i >= 0; i--) {
      const here = chain[i] as number;
      const hop = this.#hop(here);
      // A repeated hop (list.next.next…) does not lengthen the path.
      const path = hop === above.hop && here !== ROOT ? above.path : extend(above.path, hop);
      above = { path, hop };
      // The node asked about is rarely an ancestor of another: only those above it are kept.
      if (i > 0) memo.set(here, above);
    }
    return above.path;
  }

  /** One hop: how the parent holds the node, and the node's class. */
  #hop(node: number): number {
    const edge = this.#tree.parentEdge[node] as number;
    const group = this.#classes.groupOf(node);
    if (edge === NO_NODE) return mix(mix(1, group), node === ROOT ? 1 : 2);
    const { type: edgeType, name } = this.#graph.edges;
    const type = edgeType[edge] as number;
    let label = name[edge] as number;
    if (type === this.#kinds.element || type === this.#kinds.hidden || (type === this.#kinds.internal && this.#graph.number(label) !== undefined))
      label = INDEX;
    else if (type === this.#kinds.property && this.#isKeyed(this.#tree.parentNode[node] as number)) label = KEY;
    return mix(mix(mix(3, type), label), group);
  }

  /** Whether an object is used as a dictionary: its property names are keys, not fields. */
  #isKeyed(node: number): boolean {
    let keyed = this.#keyed.get(node);
    if (keyed === undefined) {
      const { firstEdge, type } = this.#graph.edges;
      let properties = 0;
      for (let edge = firstEdge[node] as number; edge < (firstEdge[node + 1] as number) && properties < KEYED_MIN_PROPERTIES; edge++) {
        if (type[edge] === this.#kinds.property) properties++;
      }
      keyed = properties >= KEYED_MIN_PROPERTIES && !this.#globals.has(node);
      this.#keyed.set(node, keyed);
    }
    return keyed;
  }
}

/** A path one hop longer: each lane mixes the hop in; lane 1 keeps 32 bits, lane 2 the top 21. */
function extend(path: number, hop: number): number {
  const lane1 = Math.floor(path / LOW_BITS) >>> 0;
  const lane2 = path % LOW_BITS;
  return mix(lane1, hop) * LOW_BITS + (mix(lane2 ^ LANE_2, hop) >>> 11);
}

/** Murmur-style mixing of a 32-bit state with an integer. */
function mix(state: number, value: number): number {
  let h = Math.imul(state ^ value, 0x5bd1_e995);
  h ^= h >>> 15;
  h = Math.imul(h, 0x27d4_eb2d);
  return (h ^ (h >>> 13)) >>> 0;
}
