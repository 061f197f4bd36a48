// Retained sizes as Chrome DevTools defines them (front_end/entrypoints/heap_snapshot_worker/
// HeapSnapshot.ts: _buildDominatorTree, _calculateRetainedSizes): an object's retained
// size is the self size of everything it dominates, everything that every path from the
// root passes through it. The graph is DevTools' too: no weak edges, shortcuts only from
// the root, and no edge from an object the global objects do not reach into one they do
// (DevTools' "page objects"), so what a handle or the debugger also holds is still
// charged to the program's holder.
//
// DevTools builds the whole dominator tree (Cooper, Harvey and Kennedy), which needs the
// reversed edges: 4 bytes an edge more, and several arrays a node. A report needs the
// retained size of a few holders only, so this answers that question directly: X
// dominates v when v is reachable from the root, and no longer once X is taken out. One
// search from the root that stops at every holder marks what none of them dominates;
// only the rest (U: what some holder stands in front of) is searched again, once per
// holder without it. Memory: three bytes and two 4-byte slots a node; time: one pass
// over the graph, plus one over U per holder. The root cannot be a holder.
import { kindsOf } from './kinds.js';
import { ROOT, type SnapshotGraph } from './paths.js';
import { breadthFirst } from './search.js';

const HOLDER = 1;
const OUTSIDE = 2; // reached from the root without passing a holder
const ENTRY = 4; // a holder some node outside reaches directly
const INSIDE = 8; // in U
// A holder reaching at most 1/SMALL_SHARE of U has its share found directly (see below).
const SMALL_SHARE = 4;

/** For each holder, the bytes it retains; null for one the root does not reach. */
export function retainedSizes(graph: SnapshotGraph, holders: readonly number[]): (number | null)[] {
  const { nodes, edges } = graph;
  const count = nodes.count;
  if (count === 0) return holders.map(() => null);
  const { edge: kinds } = kindsOf(graph.header);
  const edgeType = edges.type;
  const queue = new Uint32Array(count);
  const page = pageObjects(graph, queue);
  const state = new Uint8Array(count);
  for (const holder of holders) state[holder] = HOLDER;

  // Whether the dominator graph has the edge `edge` from `from` to `to`.
  const follows = (from: number, edge: number, to: number): boolean => {
    const type = edgeType[edge] as number;
    if (type === kinds.weak || (type === kinds.shortcut && from !== ROOT)) return false;
    return from === ROOT || page[from] === 1 || page[to] === 0;
  };

  // What the root reaches around every holder; the holders met on the way are entries.
  queue[0] = ROOT;
  state[ROOT] = OUTSIDE;
  breadthFirst(edges, queue, 0, 1, (from, edge, to) => {
    if (!follows(from, edge, to)) return false;
    const seen = state[to] as number;
    if (seen & HOLDER) state[to] = seen | ENTRY;
    if (seen & (HOLDER | OUTSIDE)) return false;
    state[to] = seen | OUTSIDE;
    return true;
  });

  // U: what the entries reach beyond that. Only these nodes can be dominated by a holder.
  const insideList = new Uint32Array(count);
  let size = 0;
  for (const holder of holders) {
    const seen = state[holder] as number;
    if (seen & ENTRY && !(seen & INSIDE)) {
      state[holder] = seen | INSIDE;
      insideList[size++] = holder;
    }
  }
  size = breadthFirst(edges, insideList, 0, size, (from, edge, to) => {
    const seen = state[to] as number;
    if (seen & (OUTSIDE | INSIDE) || !follows(from, edge, to)) return false;
    state[to] = seen | INSIDE;
    return true;
  });

  // Per holder: first what it reaches in U (A). Most holders reach little of U (a code
  // object, one array among many): their share is A less what edges from outside A
  // reach in it, found by one sequential pass over the edges. A holder in front of most
  // of U gets it the other way round: U less what the other entries reach without it.
  const reached = new Uint8Array(count);
  const inA = new Uint8Array(count);
  const inside = (node: number) => ((state[node] as number) & INSIDE) !== 0;
  const sumUnreached = (list: Uint32Array, length: number): number => {
    let retained = 0;
    for (let i = 0; i < length; i++) {
      const node = list[i] as number;
      if (reached[node] === 0) retained += nodes.selfSize[node] as number;
      else reached[node] = 0;
    }
    return retained;
  };
  return holders.map((holder) => {
    if (!inside(holder)) return null;
    queue[0] = holder;
    inA[holder] = 1;
    const reach = breadthFirst(edges, queue, 0, 1, (from, edge, to) => {
      if (inA[to] === 1 || !inside(to) || !follows(from, edge, to)) return false;
      inA[to] = 1;
      return true;
    });
    let retained: number;
    if (reach * SMALL_SHARE <= size) {
      const share = queue.slice(0, reach);
      const ways = new Uint32Array(reach);
      let tail = 0;
      for (let from = 0; from < count; from++) {
        if (inA[from] === 1 || !((state[from] as number) & (OUTSIDE | INSIDE))) continue;
        for (let edge = edges.firstEdge[from] as number; edge < (edges.firstEdge[from + 1] as number); edge++) {
          const to = edges.toNode[edge] as number;
          if (inA[to] === 1 && to !== holder && reached[to] === 0 && follows(from, edge, to)) {
            reached[to] = 1;
            ways[tail++] = to;
          }
        }
      }
      breadthFirst(edges, ways, 0, tail, (from, edge, to) => {
        if (inA[to] === 0 || to === holder || reached[to] === 1 || !follows(from, edge, to)) return false;
        reached[to] = 1;
        return true;
      });
      retained = sumUnreached(share, reach);
      for (const node of share) inA[node] = 0;
    } else {
      for (let i = 0; i < reach; i++) inA[queue[i] as number] = 0;
      let tail = 0;
      for (const other of holders) {
        if (other !== holder && (state[other] as number) & ENTRY && reached[other] === 0) {
          reached[other] = 1;
          queue[tail++] = other;
        }
      }
      breadthFirst(edges, queue, 0, tail, (from, edge, to) => {
        if (to === holder || reached[to] === 1 || !inside(to) || !follows(from, edge, to)) return false;
        reached[to] = 1;
        return true;
      });
      retained = sumUnreached(insideList, size);
    }
    return retained;
  });
}

/** DevTools' page objects: 1 for what the root's shortcut targets (the global objects) reach over non-weak edges. */
function pageObjects(graph: SnapshotGraph, queue: Uint32Array): Uint8Array {
  const { edges } = graph;
  const { edge: kinds } = kindsOf(graph.header);
  const page = new Uint8Array(graph.nodes.count);
  let tail = 0;
  for (let edge = edges.firstEdge[ROOT] as number; edge < (edges.firstEdge[ROOT + 1] as number); edge++) {
    const to = edges.toNode[edge] as number;
    if (edges.type[edge] === kinds.shortcut && page[to] === 0) {
      page[to] = 1;
      queue[tail++] = to;
    }
  }
  breadthFirst(edges, queue, 0, tail, (_from, edge, to) => {
    if (edges.type[edge] === kinds.weak || page[to] === 1) return false;
    page[to] = 1;
    return true;
  });
  return page;
}
