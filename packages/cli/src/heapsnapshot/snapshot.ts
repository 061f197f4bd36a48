// A heap snapshot as read into memory (parse.ts reads it), and totals of its objects: a
// module of their own, so that what reads a snapshot, what groups its objects (classes.ts)
// and what compares and explains them (diff.ts, retainers.ts) do not import each other.
import type { SnapshotHeader } from './header.js';
import type { EdgeColumns } from './scanner.js';

/** Node fields by ordinal (row number): `type` indexes header.nodeTypes, `name` the strings. */
export interface SnapshotNodes {
  readonly count: number;
  readonly type: Uint8Array;
  readonly name: Uint32Array;
  readonly id: Uint32Array;
  readonly selfSize: Float64Array;
}

/** Edge fields by ordinal: `type` indexes header.edgeTypes; `toNode` is a node ordinal. */
export interface SnapshotEdges extends EdgeColumns {
  readonly count: number;
  /** Node n's edges are firstEdge[n] up to firstEdge[n + 1]: V8 writes them grouped by node, in node order. */
  readonly firstEdge: Uint32Array;
}

/** What is known when the strings start: everything but the strings. */
export interface SnapshotStructure {
  readonly header: SnapshotHeader;
  readonly nodes: SnapshotNodes;
  /** With ParseOptions.edges 'keep'; null otherwise. */
  readonly edges: SnapshotEdges | null;
}

export interface HeapSnapshot extends SnapshotStructure {
  readonly edgeCount: number;
  readonly stringCount: number;
  /** A string kept while reading (see ParseOptions.keepStrings); undefined for the others. */
  string(index: number): string | undefined;
  /** A kept string made of one to nine digits (no leading zero), as a number; undefined otherwise. */
  number(index: number): number | undefined;
  /** The index of a kept string with this text, or -1 (also for one kept as a number). */
  stringIndex(text: string): number;
}

/** How many objects, and their self sizes summed. */
export interface HeapTotals {
  readonly count: number;
  readonly selfSize: number;
}
