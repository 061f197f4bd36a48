// The shortest retainer path of every object, as a tree of parent pointers: the path
// Chrome DevTools lists first in its Retainers pane (it sorts retainers by distance) and
// the kind memlab prints as a leak trace. Breadth-first from the roots, in three tiers,
// so that a path names the program's holder whenever one exists:
//
//   TIER_PROGRAM   the root's own children: the global object (a shortcut edge) and the
//                  embedder's roots (Node's "Node / Environment", "C++ roots"…)
//   TIER_RUNTIME   (GC roots) entries that hold what running code holds: the stack,
//                  handle scopes, global and eternal handles, strong roots…
//   TIER_INTERNAL  (GC roots) entries that are V8's own tables and caches (interned
//                  strings, the startup object cache, builtins, read-only roots…): an
//                  object only they reach is held by no part of the program
//
// DevTools computes distances the same way, from the global objects first, then from
// the root. Edges followed: not weak ones (they do not retain), and shortcuts only from
// the root (elsewhere they duplicate a real path); like DevTools, not a NativeContext's
// sloppy_function_map (shared by every function of a context: a path through it leads
// nowhere useful).
import type { HeapSnapshot, SnapshotEdges } from './parse.js';
import { isIndexEdge, kindsOf } from './kinds.js';
import { breadthFirst } from './search.js';

export const TIER_PROGRAM = 1;
export const TIER_RUNTIME = 2;
export const TIER_INTERNAL = 3;
export const NO_NODE = 0xffff_ffff;

/** The root of a V8 snapshot: its first node, a nameless synthetic node. */
export const ROOT = 0;
const GC_ROOTS_NAME = '(GC roots)';

// The (GC roots) entries that are V8's tables and caches, as V8 names them (RootVisitor::RootName).
const INTERNAL_ROOT_NAMES: ReadonlySet<string> = new Set([
  '(Internalized strings)',
  '(External strings)',
  '(Read-only roots)',
  '(Read-only object cache)',
  '(Startup object cache)',
  '(Shareable object cache)',
  '(Builtins)',
  '(Compilation cache)',
  '(Code flusher)',
  '(Smi roots)',
  '(Weak collections)',
  '(Retain maps)',
]);

export type SnapshotGraph = HeapSnapshot & { readonly edges: SnapshotEdges };

export interface RetainerTree {
  /** The node before each node on its shortest path, or NO_NODE (the root, and nodes no path reaches). */
  readonly parentNode: Uint32Array;
  /** The edge from parentNode to the node (an edge ordinal), or NO_NODE. */
  readonly parentEdge: Uint32Array;
  /** Per node: the tier of the roots its path starts from; 0 when no path reaches it (only weak retainers, or none). */
  readonly tier: Uint8Array;
}

export function shortestPaths(graph: SnapshotGraph): RetainerTree {
  const { nodes, edges } = graph;
  const count = nodes.count;
  const queue = new Uint32Array(count);
  const parentNode = new Uint32Array(count).fill(NO_NODE);
  const parentEdge = new Uint32Array(count).fill(NO_NODE);
  const tier = new Uint8Array(count);
  if (count === 0) return { parentNode, parentEdge, tier };
  const { edge: kinds } = kindsOf(graph.header);
  const { firstEdge, toNode, type: edgeType, name: edgeName } = edges;
  const nativeContextName = graph.stringIndex('system / NativeContext');
  const sloppyMapName = graph.stringIndex('sloppy_function_map');
  let head = 0;
  let tail = 0;

  // Reaches `to` over `edge` from `from`, at the given tier, unless it was reached already.
  const reach = (from: number, edge: number, to: number, level: number): boolean => {
    if (tier[to] !== 0) return false;
    tier[to] = level;
    parentNode[to] = from;
    parentEdge[to] = edge;
    return true;
  };
  const search = (level: number): void => {
    tail = breadthFirst(edges, queue, head, tail, (from, edge, to) => {
      const type = edgeType[edge] as number;
      if (type === kinds.weak || type === kinds.shortcut) return false;
      if (edgeName[edge] === sloppyMapName && nodes.name[from] === nativeContextName && !isIndexEdge(kinds, type)) return false;
      return reach(from, edge, to, level);
    });
    head = tail;
  };
  const seed = (from: number, edge: number, level: number): void => {
    const to = toNode[edge] as number;
    if (reach(from, edge, to, level)) queue[tail++] = to;
  };

  tier[ROOT] = TIER_PROGRAM;
  const gcRoots = gcRootsOf(graph);
  for (let edge = firstEdge[ROOT] as number; edge < (firstEdge[ROOT + 1] as number); edge++) {
    if (toNode[edge] !== gcRoots && edgeType[edge] !== kinds.weak) seed(ROOT, edge, TIER_PROGRAM);
  }
  search(TIER_PROGRAM);
  if (gcRoots === NO_NODE) return { parentNode, parentEdge, tier };
  for (const level of [TIER_RUNTIME, TIER_INTERNAL]) {
    if (tier[gcRoots] === 0) reach(ROOT, edgeTo(graph, ROOT, gcRoots), gcRoots, level);
    for (let edge = firstEdge[gcRoots] as number; edge < (firstEdge[gcRoots + 1] as number); edge++) {
      if (edgeType[edge] === kinds.weak) continue;
      const internal = INTERNAL_ROOT_NAMES.has(graph.string(nodes.name[toNode[edge] as number] as number) ?? '');
      if (internal === (level === TIER_INTERNAL)) seed(gcRoots, edge, level);
    }
    search(level);
  }
  return { parentNode, parentEdge, tier };
}

/** The (GC roots) node: the root's child of that name, or NO_NODE. */
function gcRootsOf(graph: SnapshotGraph): number {
  const { firstEdge, toNode } = graph.edges;
  for (let edge = firstEdge[ROOT] as number; edge < (firstEdge[ROOT + 1] as number); edge++) {
    const to = toNode[edge] as number;
    if (graph.string(graph.nodes.name[to] as number) === GC_ROOTS_NAME) return to;
  }
  return NO_NODE;
}

/** The first edge from `from` to `to`, or NO_NODE. */
function edgeTo(graph: SnapshotGraph, from: number, to: number): number {
  const { firstEdge, toNode } = graph.edges;
  for (let edge = firstEdge[from] as number; edge < (firstEdge[from + 1] as number); edge++) if (toNode[edge] === to) return edge;
  return NO_NODE;
}
