// Reads a heap snapshot into memory bounded by its node count: one typed-array column per
// node field we use (17 bytes a node), no object per node, no edges, and only the strings
// asked for. Column types, and why:
//   type      Uint8Array    an index into ~16 type names
//   name      Uint32Array   an index into strings; V8 counts strings in 32 bits
//   id        Uint32Array   V8's SnapshotObjectId is uint32: odd for heap objects, even
//                           for native ones, which Node 20 derives from addresses (about
//                           1e9 seen here); an Int32Array would turn ids past 2^31 negative
//   selfSize  Float64Array  one backing store or string can pass 2^32 bytes; doubles hold
//                           integers exactly up to 2^53, and larger sizes are refused
import { classNameStrings } from './classes.js';
import { HeapSnapshotError } from './errors.js';
import type { SnapshotHeader } from './header.js';
import type { NodeColumns, ScanHandlers } from './scanner.js';
import type { HeapSnapshot, SnapshotNodes } from './snapshot.js';
import { scanSnapshot, type ReadOptions, type SnapshotSource } from './source.js';

export interface ParseOptions extends ReadOptions {
  /**
   * Runs once the nodes are read, before the strings: the string indexes to decode and
   * keep. Default: the class names (names of object and native nodes), which is what
   * summarizeByClass needs. Strings are most of a snapshot's text; decoding only these
   * keeps memory bounded by the node count.
   */
  keepStrings?: (nodes: SnapshotNodes, header: SnapshotHeader) => Iterable<number>;
}

export async function parseHeapSnapshot(source: SnapshotSource, options: ParseOptions = {}): Promise<HeapSnapshot> {
  const store = new SnapshotStore(options.keepStrings ?? classNameStrings);
  const result = await scanSnapshot(source, store, options);
  const strings = store.strings;
  return {
    header: result.header,
    nodes: store.nodes,
    edgeCount: result.edgeCount,
    stringCount: result.stringCount,
    string: (index) => strings.get(index),
  };
}

const NO_NODES: SnapshotNodes = { count: 0, type: new Uint8Array(0), name: new Uint32Array(0), id: new Uint32Array(0), selfSize: new Float64Array(0) };

/** Receives the scan: node rows into columns, wanted strings into a map. */
class SnapshotStore implements ScanHandlers {
  readonly strings = new Map<number, string>();
  nodes = NO_NODES;
  readonly #keepStrings: NonNullable<ParseOptions['keepStrings']>;

  constructor(keepStrings: NonNullable<ParseOptions['keepStrings']>) {
    this.#keepStrings = keepStrings;
  }

  header(header: SnapshotHeader): NodeColumns {
    const count = header.nodeCount;
    try {
      this.nodes = { count, type: new Uint8Array(count), name: new Uint32Array(count), id: new Uint32Array(count), selfSize: new Float64Array(count) };
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      throw new HeapSnapshotError('HEAPSNAPSHOT_MALFORMED', `the heap snapshot is malformed: node_count (${count}) is too large to hold`, null, { cause: error });
    }
    return this.nodes;
  }

  stringsWanted(header: SnapshotHeader): Uint8Array {
    const wanted = Array.from(this.#keepStrings(this.nodes, header));
    let size = 0;
    for (const index of wanted) if (index >= size) size = index + 1;
    const bitmap = new Uint8Array(size);
    for (const index of wanted) bitmap[index] = 1;
    return bitmap;
  }

  string(index: number, value: string): void {
    this.strings.set(index, value);
  }
}
