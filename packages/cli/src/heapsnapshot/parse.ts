// Reads a heap snapshot into memory bounded by its node and edge counts: one typed-array
// column per field we use, no object per node or edge, and only the strings asked for.
// Node columns (17 bytes a node), and why:
//   type      Uint8Array    an index into ~16 type names
//   name      Uint32Array   an index into strings; V8 counts strings in 32 bits
//   id        Uint32Array   V8's SnapshotObjectId is uint32: odd for heap objects, even
//                           for native ones, which Node 20 derives from addresses (about
//                           1e9 seen here); an Int32Array would turn ids past 2^31 negative
//   selfSize  Float64Array  one backing store or string can pass 2^32 bytes; doubles hold
//                           integers exactly up to 2^53, and larger sizes are refused
// Edges, only when asked for (retainer paths need them): type (Uint8Array), name_or_index
// and the target's ordinal (Uint32Array each), 9 bytes an edge, plus where each node's
// edges start (4 bytes a node).
import { classNameStrings } from './classes.js';
import { HeapSnapshotError } from './errors.js';
import type { SnapshotHeader } from './header.js';
import type { EdgeColumns, NodeColumns, ScanHandlers } from './scanner.js';
import type { HeapSnapshot, SnapshotEdges, SnapshotNodes, SnapshotStructure } from './snapshot.js';
import { scanSnapshot, type ReadOptions, type SnapshotSource } from './source.js';

export interface ParseOptions extends ReadOptions {
  /**
   * 'check' (default): read and check every edge, keep none. 'keep': into columns, for
   * retainer paths. 'skip': pass over them unread, which saves most of the reading time
   * of reports that use no edges; their numbers are then not checked.
   */
  edges?: 'check' | 'keep' | 'skip';
  /**
   * Runs once the nodes (and edges) are read, before the strings: the string indexes to
   * decode and keep, as a list or as a byte per index (1 = keep). Default: the class
   * names (names of object and native nodes), which is what summarizeByClass needs.
   * Strings are most of a snapshot's text; decoding only these keeps memory bounded by
   * the node count.
   */
  keepStrings?: (snapshot: SnapshotStructure) => Iterable<number> | Uint8Array;
}

export async function parseHeapSnapshot(source: SnapshotSource, options: ParseOptions = {}): Promise<HeapSnapshot> {
  const store = new SnapshotStore(options.keepStrings ?? ((read) => classNameStrings(read.nodes, read.header)), options.edges ?? 'check');
  const result = await scanSnapshot(source, store, options);
  const { strings, numbers } = store;
  let indexes: Map<string, number> | null = null;
  return {
    header: result.header,
    nodes: store.nodes,
    edges: store.keptEdges,
    edgeCount: result.edgeCount,
    stringCount: result.stringCount,
    string: (index) => strings.get(index) ?? (numbers !== null && (numbers[index] ?? 0) > 0 ? String((numbers[index] as number) - 1) : undefined),
    number: (index) => (numbers !== null && (numbers[index] ?? 0) > 0 ? (numbers[index] as number) - 1 : undefined),
    stringIndex: (text) => (indexes ??= new Map(Array.from(strings, ([index, value]) => [value, index]))).get(text) ?? -1,
  };
}

/** The ids of a snapshot's nodes, in node order: 4 bytes a node, nothing else kept, edges passed over. */
export async function readNodeIds(source: SnapshotSource, options: ReadOptions = {}): Promise<Uint32Array> {
  let ids = new Uint32Array(0);
  await scanSnapshot(
    source,
    { header: (header) => ({ id: (ids = allocate(header.nodeCount, 'node_count', (n) => new Uint32Array(n))) }), edges: () => 'skip' },
    options,
  );
  return ids;
}

const NO_NODES: SnapshotNodes = { count: 0, type: new Uint8Array(0), name: new Uint32Array(0), id: new Uint32Array(0), selfSize: new Float64Array(0) };

/** Receives the scan: node rows (and edges) into columns, wanted strings into a map. */
class SnapshotStore implements ScanHandlers {
  readonly strings = new Map<number, string>();
  /** Kept strings that are numbers, by string index, plus one (0: none). */
  numbers: Uint32Array | null = null;
  nodes = NO_NODES;
  keptEdges: SnapshotEdges | null = null;
  readonly #keepStrings: NonNullable<ParseOptions['keepStrings']>;
  readonly #edgeMode: NonNullable<ParseOptions['edges']>;
  #firstEdge: Uint32Array | null = null;
  #wantedCount = 0;

  constructor(keepStrings: NonNullable<ParseOptions['keepStrings']>, edgeMode: NonNullable<ParseOptions['edges']>) {
    this.#keepStrings = keepStrings;
    this.#edgeMode = edgeMode;
  }

  header(header: SnapshotHeader): NodeColumns {
    const count = header.nodeCount;
    const columns = allocate(count, 'node_count', (n) => ({
      count: n,
      type: new Uint8Array(n),
      name: new Uint32Array(n),
      id: new Uint32Array(n),
      selfSize: new Float64Array(n),
    }));
    this.nodes = columns;
    if (this.#edgeMode !== 'keep') return columns;
    // Each node's edge count lands one slot on; a running sum then turns counts into starts.
    this.#firstEdge = allocate(count + 1, 'node_count', (n) => new Uint32Array(n));
    return { ...columns, edgeCount: this.#firstEdge.subarray(1) };
  }

  edges(header: SnapshotHeader): EdgeColumns | 'skip' | null {
    const firstEdge = this.#firstEdge;
    if (this.#edgeMode === 'skip') return 'skip';
    if (firstEdge === null) return null;
    for (let ordinal = 1; ordinal < firstEdge.length; ordinal++) firstEdge[ordinal] = (firstEdge[ordinal] as number) + (firstEdge[ordinal - 1] as number);
    const count = header.edgeCount;
    this.keptEdges = allocate(count, 'edge_count', (n) => ({
      count: n,
      type: new Uint8Array(n),
      name: new Uint32Array(n),
      toNode: new Uint32Array(n),
      firstEdge,
    }));
    return this.keptEdges;
  }

  stringsWanted(header: SnapshotHeader): Uint8Array {
    const wanted = this.#keepStrings({ header, nodes: this.nodes, edges: this.keptEdges });
    if (wanted instanceof Uint8Array) {
      this.#wantedCount = wanted.length;
      return wanted;
    }
    const indexes = Array.from(wanted);
    let size = 0;
    for (const index of indexes) if (index >= size) size = index + 1;
    const bitmap = new Uint8Array(size);
    for (const index of indexes) bitmap[index] = 1;
    this.#wantedCount = size;
    return bitmap;
  }

  string(index: number, value: string): void {
    this.strings.set(index, value);
  }

  number(index: number, value: number): void {
    (this.numbers ??= new Uint32Array(this.#wantedCount))[index] = value + 1;
  }
}

/** Typed arrays sized by the header: a count too large to hold is the file's fault. */
function allocate<T>(count: number, field: string, make: (count: number) => T): T {
  try {
    return make(count);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new HeapSnapshotError('HEAPSNAPSHOT_MALFORMED', `the heap snapshot is malformed: ${field} (${count}) is too large to hold`, null, { cause: error });
  }
}
