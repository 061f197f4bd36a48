// Who holds what grows. Given a snapshot with its edges and the objects to explain (new
// since an earlier snapshot), this groups them by the class of the object that holds
// them (owners.ts: strings and internal arrays are charged to their owner), ranks the
// classes, and for the top ones clusters the objects by retainer path (signatures.ts),
// names the holder where each cluster's paths meet (ancestors.ts) and what that holder
// retains (dominators.ts). Everything per node is a typed array; objects are made only
// for what the report shows.
import { CommonAncestors } from './ancestors.js';
import { ClassTable } from './classes.js';
import { retainedSizes } from './dominators.js';
import { isIndexEdge, kindsOf, type EdgeKinds } from './kinds.js';
import { Owners } from './owners.js';
import type { HeapSnapshot, HeapTotals, SnapshotStructure } from './snapshot.js';
import { NO_NODE, ROOT, shortestPaths, TIER_INTERNAL, TIER_PROGRAM, TIER_RUNTIME, type RetainerTree, type SnapshotGraph } from './paths.js';
import { rank, type RankBy } from './rank.js';
import { PathSignatures } from './signatures.js';
import { sortPairs } from './sort.js';

export interface PathStep {
  /** How the step before holds this one: a property, variable or internal name, or "[12]" for an index; null for the first step. */
  readonly edge: string | null;
  /** The edge's type (property, context, element, internal…); null for the first step. */
  readonly edgeType: string | null;
  readonly id: number;
  /** The node's class, as DevTools names it: the constructor, Function, (string), (array), (system)… */
  readonly class: string;
  /** The node's own name (system / Context, Node / Environment, a function's name), or null for strings and numbers: their text may be secret. */
  readonly name: string | null;
  /** How many times this step repeats (list.next.next…: 3); the id is the first one's. */
  readonly times: number;
}

interface RetainerHolder {
  readonly id: number;
  readonly class: string;
  /** The name it is held under (a variable, a property), or null for an index. */
  readonly edge: string | null;
  /** Bytes it keeps alive: the self sizes of all it dominates (DevTools' retained size); null if the root does not reach it. */
  readonly retainedSize: number | null;
}

/** Where a cluster's paths start: the program (globals, embedder), running code (stack, handles), only V8's tables, or nothing strong. */
type PathOrigin = 'program' | 'runtime' | 'internal' | 'unreachable';

export interface RetainerPath {
  /** Objects in the cluster, with the parts they hold, and their bytes. */
  readonly count: number;
  readonly selfSize: number;
  readonly origin: PathOrigin;
  /** The shortest path to the cluster's largest object, root first: the DevTools Retainers pane's first line. Empty when unreachable. */
  readonly path: readonly PathStep[];
  /** Where the cluster's paths meet, and what it retains; null for 'internal' and 'unreachable'. */
  readonly holder: RetainerHolder | null;
}

interface HolderExample {
  readonly id: number;
  /** The node's own name: the constructor for objects, the text for strings (when kept), the function's name for closures. */
  readonly name: string;
  readonly selfSize: number;
}

export interface HolderClass {
  readonly name: string;
  /** Objects of this class among those explained, and their bytes. */
  readonly count: number;
  readonly selfSize: number;
  /** Strings, internal arrays and heap numbers among those explained that objects of this class hold. */
  readonly held: HeapTotals;
  /** A few of the objects of this class charged: its explained objects, or the older ones holding explained parts. */
  readonly examples: readonly HolderExample[];
  /** The largest clusters of retainer paths, for the classes traced (RetainerOptions.classes). */
  readonly retainers: readonly RetainerPath[];
  /** Clusters not shown. */
  readonly morePaths: number;
}

export interface HolderReport {
  /** Everything explained: objects and bytes. */
  readonly total: HeapTotals;
  /** Ranked by own plus held bytes (or objects). */
  readonly classes: readonly HolderClass[];
}

export interface RetainerOptions {
  sortBy?: RankBy;
  /** How many of the top classes get retainer paths (default DEFAULT_TRACED_CLASSES). */
  classes?: number;
  /** Clusters shown per class (default DEFAULT_PATHS_PER_CLASS). */
  paths?: number;
  /** Examples per class (default 3). */
  examples?: number;
}

const DEFAULT_TRACED_CLASSES = 5;
const DEFAULT_PATHS_PER_CLASS = 3;
const DEFAULT_EXAMPLES = 3;

/** A path's origin by the tier of its root (0: no path). */
const ORIGINS: Readonly<Record<number, PathOrigin>> = { 0: 'unreachable', [TIER_PROGRAM]: 'program', [TIER_RUNTIME]: 'runtime', [TIER_INTERNAL]: 'internal' };

/** Per class: the objects (units) charged to it, and totals. */
interface ClassRow {
  readonly group: number;
  count: number;
  selfSize: number;
  heldCount: number;
  heldSize: number;
  /** Indexes into the unit arrays. */
  units: number[];
}

/**
 * Explains the nodes marked 1 in `explain` (by ordinal). With the snapshot's edges, parts
 * are charged to their owners and the top classes get retainer paths; without them, each
 * node counts in its own class and no class has paths.
 */
export function reportHolders(snapshot: HeapSnapshot, explain: Uint8Array, options: RetainerOptions = {}): HolderReport {
  const { nodes } = snapshot;
  const graph = snapshot.edges === null ? null : (snapshot as SnapshotGraph);
  const tree = graph === null ? null : shortestPaths(graph);
  const classes = new ClassTable(snapshot);
  const owners = graph === null || tree === null ? null : new Owners(graph, tree, explain, (node) => classes.groupOf(node));

  // Each explained node with its owner, grouped by owner.
  let explained = 0;
  for (let node = 0; node < nodes.count; node++) if (explain[node] === 1 && nodes.selfSize[node] !== 0) explained++;
  const ownerOf = new Uint32Array(explained);
  const member = new Uint32Array(explained);
  let total = 0;
  let at = 0;
  for (let node = 0; node < nodes.count; node++) {
    if (explain[node] !== 1 || nodes.selfSize[node] === 0) continue;
    total += nodes.selfSize[node] as number;
    ownerOf[at] = owners === null ? node : owners.of(node);
    member[at++] = node;
  }
  sortPairs(ownerOf, member);

  // One unit per owner: its own bytes if it is explained itself, and its parts'.
  const units = new Units(explained);
  const rows = new Map<number, ClassRow>();
  for (let start = 0; start < explained; ) {
    const owner = ownerOf[start] as number;
    let end = start;
    let own = 0;
    let heldCount = 0;
    let heldSize = 0;
    for (; end < explained && ownerOf[end] === owner; end++) {
      const node = member[end] as number;
      if (node === owner) own = nodes.selfSize[node] as number;
      else {
        heldCount++;
        heldSize += nodes.selfSize[node] as number;
      }
    }
    const group = classes.groupOf(owner);
    let row = rows.get(group);
    if (row === undefined) rows.set(group, (row = { group, count: 0, selfSize: 0, heldCount: 0, heldSize: 0, units: [] }));
    if (own > 0) {
      row.count++;
      row.selfSize += own;
    }
    row.heldCount += heldCount;
    row.heldSize += heldSize;
    row.units.push(units.add(owner, (own > 0 ? 1 : 0) + heldCount, own + heldSize));
    start = end;
  }

  const ranked = rank(
    [...rows.values()].map((row) => ({ row, name: classes.name(row.group) })),
    (entry, by) => (by === 'size' ? entry.row.selfSize + entry.row.heldSize : entry.row.count + entry.row.heldCount),
    { sortBy: options.sortBy ?? 'size' },
  );
  const examples = options.examples ?? DEFAULT_EXAMPLES;
  const example = (node: number): HolderExample => ({
    id: nodes.id[node] as number,
    name: snapshot.string(nodes.name[node] as number) ?? '',
    selfSize: nodes.selfSize[node] as number,
  });
  const traced =
    graph === null || tree === null || owners === null
      ? []
      : traceTop(
          graph,
          tree,
          owners,
          classes,
          units,
          ranked.slice(0, options.classes ?? DEFAULT_TRACED_CLASSES).map(({ row }) => row),
          options.paths ?? DEFAULT_PATHS_PER_CLASS,
        );
  return {
    total: { count: explained, selfSize: total },
    classes: ranked.map(({ row, name }, index) => ({
      name,
      count: row.count,
      selfSize: row.selfSize,
      held: { count: row.heldCount, selfSize: row.heldSize },
      examples: row.units.slice(0, examples).map((unit) => example(units.node[unit] as number)),
      retainers: traced[index]?.retainers ?? [],
      morePaths: traced[index]?.more ?? 0,
    })),
  };
}

/** Clusters, holders and what the holders retain, for each of `rows`. */
function traceTop(
  graph: SnapshotGraph,
  tree: RetainerTree,
  owners: Owners,
  classes: ClassTable,
  units: Units,
  rows: readonly ClassRow[],
  paths: number,
): { retainers: RetainerPath[]; more: number }[] {
  const clusters = new Clusters(graph, tree, classes, owners, units, paths);
  const shown = rows.map((row) => clusters.of(row.units));
  const holders = [...new Set(shown.flatMap((list) => list.clusters.flatMap((cluster) => (cluster.holder === NO_NODE ? [] : [cluster.holder]))))];
  const sizes = retainedSizes(graph, holders);
  const retained = new Map(holders.map((holder, i) => [holder, sizes[i] ?? null]));
  const names = new PathNames(graph, tree, classes);
  return shown.map(({ clusters: list, more }) => ({
    retainers: list.map((cluster) => names.retainerPath(cluster, retained.get(cluster.holder) ?? null)),
    more,
  }));
}

// Strings whose text is kept for examples, per string type: the first explained ones.
const STRING_EXAMPLES_PER_TYPE = 16;

/**
 * The strings reportHolders needs, as ParseOptions.keepStrings wants them: every node
 * name but the text of strings (class names, closure and root names), every edge name
 * (properties, variables; hash-table slot numbers are stored as numbers), and the text
 * of the first few strings among those to explain, for examples.
 */
export function retainerStrings(snapshot: SnapshotStructure, explain: Uint8Array): Uint8Array {
  const { nodes, edges, header } = snapshot;
  const { node: nodeKinds, edge: edgeKinds } = kindsOf(header);
  const stringTypes = [nodeKinds.string, nodeKinds.consString, nodeKinds.slicedString];
  const examplesLeft = header.nodeTypes.map((_, type): number => (stringTypes.includes(type) ? STRING_EXAMPLES_PER_TYPE : 0));
  const isString = new Uint8Array(header.nodeTypes.length);
  for (const type of stringTypes) if (type >= 0) isString[type] = 1;
  let wanted = new Uint8Array(1 << 16);
  const want = (index: number): void => {
    if (index >= wanted.length) {
      const grown = new Uint8Array(Math.max(index + 1, 2 * wanted.length));
      grown.set(wanted);
      wanted = grown;
    }
    wanted[index] = 1;
  };
  for (let node = 0; node < nodes.count; node++) {
    const type = nodes.type[node] as number;
    if (isString[type] === 0) want(nodes.name[node] as number);
    else if (explain[node] === 1 && (examplesLeft[type] as number) > 0) {
      examplesLeft[type] = (examplesLeft[type] as number) - 1;
      want(nodes.name[node] as number);
    }
  }
  if (edges !== null) for (let edge = 0; edge < edges.count; edge++) if (!isIndexEdge(edgeKinds, edges.type[edge] as number)) want(edges.name[edge] as number);
  return wanted;
}

/** Objects charged with explained bytes: the node, how many explained nodes it stands for, their bytes. */
class Units {
  readonly node: Uint32Array;
  readonly count: Uint32Array;
  readonly size: Float64Array;
  #length = 0;

  constructor(capacity: number) {
    this.node = new Uint32Array(capacity);
    this.count = new Uint32Array(capacity);
    this.size = new Float64Array(capacity);
  }

  add(node: number, count: number, size: number): number {
    const unit = this.#length++;
    this.node[unit] = node;
    this.count[unit] = count;
    this.size[unit] = size;
    return unit;
  }
}

interface Cluster {
  count: number;
  selfSize: number;
  origin: PathOrigin;
  /** The node of the unit with the most bytes: its path is the one shown. */
  example: number;
  exampleSize: number;
  holder: number;
}

/** Groups a class's units by path and finds each group's holder. */
class Clusters {
  readonly #tree: RetainerTree;
  readonly #owners: Owners;
  readonly #units: Units;
  readonly #signatures: PathSignatures;
  readonly #ancestors: CommonAncestors;
  readonly #shown: number;

  constructor(graph: SnapshotGraph, tree: RetainerTree, classes: ClassTable, owners: Owners, units: Units, shown: number) {
    this.#tree = tree;
    this.#owners = owners;
    this.#units = units;
    this.#signatures = new PathSignatures(graph, tree, classes);
    this.#ancestors = new CommonAncestors(tree);
    this.#shown = shown;
  }

  of(unitList: readonly number[]): { clusters: Cluster[]; more: number } {
    const { node, count, size } = this.#units;
    const { tier } = this.#tree;
    // Units that no path reaches form one cluster; those only V8's tables reach are
    // clustered by path like the rest, but shown without one.
    const byPath = new Map<number, { cluster: Cluster; members: number[] }>();
    for (const unit of unitList) {
      const at = node[unit] as number;
      const level = tier[at] as number;
      const key = level === 0 ? -1 : this.#signatures.of(at);
      let entry = byPath.get(key);
      if (entry === undefined) {
        entry = { cluster: { count: 0, selfSize: 0, origin: ORIGINS[level] as PathOrigin, example: at, exampleSize: -1, holder: NO_NODE }, members: [] };
        byPath.set(key, entry);
      }
      const { cluster } = entry;
      cluster.count += count[unit] as number;
      cluster.selfSize += size[unit] as number;
      if ((size[unit] as number) > cluster.exampleSize) {
        cluster.example = at;
        cluster.exampleSize = size[unit] as number;
      }
      entry.members.push(at);
    }
    const ranked = [...byPath.values()].sort((a, b) => b.cluster.selfSize - a.cluster.selfSize || b.cluster.count - a.cluster.count);
    const shown = ranked.slice(0, this.#shown);
    for (const { cluster, members } of shown) {
      if (cluster.origin === 'program' || cluster.origin === 'runtime') cluster.holder = this.#holder(members);
    }
    return { clusters: shown.map((entry) => entry.cluster), more: ranked.length - shown.length };
  }

  /** Where the paths meet, lifted out of strings and internal arrays to the object that owns them (not to a root); never the root. */
  #holder(members: readonly number[]): number {
    let holder = this.#ancestors.of(members);
    while (this.#owners.isPart(holder) && !this.#owners.isRootOrNone(this.#tree.parentNode[holder] as number)) holder = this.#tree.parentNode[holder] as number;
    return holder === ROOT ? NO_NODE : holder;
  }
}

/** Turns a cluster into what a report shows: ids, classes, edge names. */
class PathNames {
  readonly #graph: SnapshotGraph;
  readonly #tree: RetainerTree;
  readonly #classes: ClassTable;
  readonly #edgeKinds: EdgeKinds;
  /** Per node type: 1 where a node's name is its text (strings, numbers), kept out of paths. */
  readonly #textTypes: Uint8Array;

  constructor(graph: SnapshotGraph, tree: RetainerTree, classes: ClassTable) {
    this.#graph = graph;
    this.#tree = tree;
    this.#classes = classes;
    const { edge, node } = kindsOf(graph.header);
    this.#edgeKinds = edge;
    this.#textTypes = new Uint8Array(graph.header.nodeTypes.length);
    for (const type of [node.string, node.consString, node.slicedString, node.number]) if (type >= 0) this.#textTypes[type] = 1;
  }

  retainerPath(cluster: Cluster, retainedSize: number | null): RetainerPath {
    const path = cluster.origin === 'unreachable' ? [] : this.#path(cluster.example);
    const holder = cluster.holder === NO_NODE ? null : { ...this.#holder(cluster.holder), retainedSize };
    // A path only V8's tables hold is shown up to the table ((GC roots) → the table): the rest retains nothing.
    const shown = cluster.origin === 'internal' ? path.slice(0, 2) : path;
    return { count: cluster.count, selfSize: cluster.selfSize, origin: cluster.origin, path: shown, holder };
  }

  #holder(node: number): Omit<RetainerHolder, 'retainedSize'> {
    const step = this.#step(node);
    return { id: step.id, class: step.class, edge: step.edgeType === null || this.#isIndex(this.#tree.parentEdge[node] as number) ? null : step.edge };
  }

  /** Root first; the root itself (a nameless synthetic node) left out; runs of one step (a list's links) as one. */
  #path(node: number): PathStep[] {
    const nodes: number[] = [];
    for (let at = node; at !== NO_NODE && at !== ROOT; at = this.#tree.parentNode[at] as number) nodes.push(at);
    const steps: PathStep[] = [];
    for (const at of nodes.reverse()) {
      const step = this.#step(at);
      const last = steps.at(-1);
      if (last !== undefined && last.edge === step.edge && last.edgeType === step.edgeType && last.class === step.class && last.name === step.name)
        steps[steps.length - 1] = { ...last, times: last.times + 1 };
      else steps.push(steps.length === 0 ? { ...step, edge: null, edgeType: null } : step);
    }
    return steps;
  }

  #step(node: number): PathStep {
    const { nodes, edges, header } = this.#graph;
    const type = nodes.type[node] as number;
    const id = nodes.id[node] as number;
    const className = this.#classes.name(this.#classes.groupOf(node));
    const name = this.#textTypes[type] === 1 ? null : (this.#graph.string(nodes.name[node] as number) ?? null);
    const edge = this.#tree.parentEdge[node] as number;
    if (edge === NO_NODE) return { edge: null, edgeType: null, id, class: className, name, times: 1 };
    return { edge: this.#edgeLabel(edge), edgeType: header.edgeTypes[edges.type[edge] as number] ?? null, id, class: className, name, times: 1 };
  }

  /** A property, variable or internal name; "[12]" for an index or a hash-table slot. */
  #edgeLabel(edge: number): string {
    const label = this.#graph.edges.name[edge] as number;
    const index = isIndexEdge(this.#edgeKinds, this.#graph.edges.type[edge] as number) ? label : this.#graph.number(label);
    return index !== undefined ? `[${index}]` : (this.#graph.string(label) ?? '?');
  }

  /** Whether an edge is named by an index (element, hidden) or a hash-table slot number. */
  #isIndex(edge: number): boolean {
    const label = this.#graph.edges.name[edge] as number;
    return isIndexEdge(this.#edgeKinds, this.#graph.edges.type[edge] as number) || this.#graph.number(label) !== undefined;
  }
}
