// Breadth-first search over a snapshot's edges, shared by the searches that find paths,
// page objects and dominated nodes. Each caller decides per edge whether to go on, and
// keeps its own marks: the search only runs the queue.
import type { SnapshotEdges } from './snapshot.js';

/**
 * Dequeues from queue[head] until the queue is empty, offering each edge of each node to
 * `enter(from, edge, to)`; when it returns true, `to` is queued (the caller has marked it
 * so that it does not accept it twice). Returns the queue's final length: queue[0, length)
 * holds every node visited, in order.
 */
export function breadthFirst(
  edges: SnapshotEdges,
  queue: Uint32Array,
  head: number,
  tail: number,
  enter: (from: number, edge: number, to: number) => boolean,
): number {
  const { firstEdge, toNode } = edges;
  while (head < tail) {
    const from = queue[head++] as number;
    const end = firstEdge[from + 1] as number;
    for (let edge = firstEdge[from] as number; edge < end; edge++) {
      const to = toNode[edge] as number;
      if (enter(from, edge, to)) queue[tail++] = to;
    }
  }
  return tail;
}
