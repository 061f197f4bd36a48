// Which object a new node belongs to. A leak of records shows in a heap as more records,
// and as more of what they hold: (string) and (concatenated string) nodes for their
// text, V8's internal arrays behind them (elements, properties, hash tables), their own
// arrays and objects. Ranked by bytes, those come first, and say little about the
// program. So each explained node is charged to an owner, going up its shortest retainer
// path:
//   - a part (a string, an internal array, a heap number) belongs to the nearest object
//     above it that is not a part: the record, the Map whose table holds the keys;
//   - an explained object whose nearest non-part object above is explained too belongs
//     to that one's owner, and so on up: a record's fields and arrays belong to the
//     record, the record to itself when what holds it is older (the array it was pushed
//     onto);
//   - but never to an owner of its own class: a record reached only through another new
//     record (a list's next, an event's prev) is a new record too, and counts as one, so
//     that a class's new objects are the ones a two-snapshot diff counts (a chain of 500
//     new links is 500 links, not one link owning 499).
// A part held directly by a root, or reached by no path, stays on its own.
import { kindsOf } from './kinds.js';
import { NO_NODE, type RetainerTree, type SnapshotGraph } from './paths.js';

export class Owners {
  readonly #parent: Uint32Array;
  readonly #type: Uint8Array;
  readonly #explain: Uint8Array;
  /** Per node type: 1 for strings, internal arrays and heap numbers. */
  readonly #part: Uint8Array;
  readonly #synthetic: number;
  /** Owners found so far, plus one (0: not yet), so that long chains are climbed once. */
  readonly #known: Uint32Array;
  /** A node's class (ClassTable.groupOf): an object is never charged to one of its own class. */
  readonly #classOf: (node: number) => number;

  constructor(graph: SnapshotGraph, tree: RetainerTree, explain: Uint8Array, classOf: (node: number) => number) {
    const { node } = kindsOf(graph.header);
    this.#parent = tree.parentNode;
    this.#type = graph.nodes.type;
    this.#explain = explain;
    this.#part = new Uint8Array(graph.header.nodeTypes.length);
    for (const type of [node.string, node.consString, node.slicedString, node.array, node.number]) if (type >= 0) this.#part[type] = 1;
    this.#synthetic = node.synthetic;
    this.#known = new Uint32Array(graph.nodes.count);
    this.#classOf = classOf;
  }

  /** Whether `node` is NO_NODE or a root (a synthetic node): what no part is charged to. */
  isRootOrNone(node: number): boolean {
    return node === NO_NODE || this.#type[node] === this.#synthetic;
  }

  /** Whether a node is a part (a string, an internal array, a heap number). */
  isPart(node: number): boolean {
    return this.#part[this.#type[node] as number] === 1;
  }

  /** The object an explained `node` is charged to (possibly itself). */
  of(node: number): number {
    const known = this.#known[node] as number;
    if (known !== 0) return known - 1;
    if (!this.isPart(node)) return this.#ownerOfObject(node);
    // A part: the parts between it and the nearest object share its owner.
    const passed = [node];
    let up = this.#parent[node] as number;
    while (up !== NO_NODE && this.isPart(up)) {
      const found = this.#known[up] as number;
      // A part above that owns itself has no object above it: neither has this one.
      if (found !== 0) return this.#remember(passed, found - 1 === up ? node : found - 1);
      passed.push(up);
      up = this.#parent[up] as number;
    }
    if (this.isRootOrNone(up)) return node;
    return this.#remember(passed, this.#explain[up] === 1 ? this.#ownerOfObject(up) : up);
  }

  /**
   * An explained object's owner: the owner of the nearest object above it if that one is
   * explained too and its owner is of another class, else itself.
   */
  #ownerOfObject(object: number): number {
    const parent = this.#parent;
    // The run of explained objects from `object` up to the first one whose owner is known
    // or whose nearest object above is not explained; then owners from the top down.
    const run: number[] = [];
    let at = object;
    let owner: number;
    for (;;) {
      const found = this.#known[at] as number;
      if (found !== 0) {
        owner = found - 1;
        break;
      }
      run.push(at);
      let up = parent[at] as number;
      while (up !== NO_NODE && this.isPart(up)) up = parent[up] as number;
      if (this.isRootOrNone(up) || this.#explain[up] !== 1) {
        owner = run.pop() as number;
        this.#known[owner] = owner + 1;
        break;
      }
      at = up;
    }
    for (let i = run.length - 1; i >= 0; i--) {
      const node = run[i] as number;
      if (this.#classOf(owner) === this.#classOf(node)) owner = node;
      this.#known[node] = owner + 1;
    }
    return owner;
  }

  #remember(nodes: readonly number[], owner: number): number {
    for (const node of nodes) this.#known[node] = owner + 1;
    return owner;
  }
}
