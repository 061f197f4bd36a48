// The deepest node on every path of a group: where objects that share a retainer path
// come together, the array or Map that holds them all. On the tree of shortest paths
// that is the lowest common ancestor of the group's nodes.
//
// Found in time proportional to the nodes the paths cover, however deep: marks in a
// per-node array say "on the chain from the current answer up to the root" or "known to
// be below the current answer", so no node is climbed past twice. (Pairwise climbing
// would be quadratic for the thousand nodes of a linked list.)
import { NO_NODE, type RetainerTree } from './paths.js';

export class CommonAncestors {
  readonly #parent: Uint32Array;
  readonly #marks: Uint32Array;
  /** Each search uses two fresh mark values: 2s (below) and 2s + 1 (on the chain). */
  #serial = 0;

  constructor(tree: RetainerTree) {
    this.#parent = tree.parentNode;
    this.#marks = new Uint32Array(tree.parentNode.length);
  }

  /** The lowest common ancestor of `nodes` (a node counts as its own ancestor); all must be reachable. */
  of(nodes: Iterable<number>): number {
    const parent = this.#parent;
    const marks = this.#marks;
    this.#serial++;
    const below = 2 * this.#serial;
    const chain = below + 1;
    let answer = NO_NODE;
    const climbed: number[] = [];
    for (const node of nodes) {
      if (answer === NO_NODE) {
        answer = node;
        for (let at = node; at !== NO_NODE; at = parent[at] as number) marks[at] = chain;
        continue;
      }
      climbed.length = 0;
      let at = node;
      while (at !== NO_NODE && marks[at] !== below && marks[at] !== chain) {
        climbed.push(at);
        at = parent[at] as number;
      }
      if (at === NO_NODE) throw new Error(`node ${node} is not reachable`);
      if (marks[at] === chain && at !== answer) {
        // The answer moves up to `at`: what lay between them is now below it.
        for (let up = answer; up !== at; up = parent[up] as number) marks[up] = below;
        answer = at;
      }
      for (const passed of climbed) marks[passed] = below;
    }
    return answer;
  }
}
