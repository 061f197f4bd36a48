// A heap snapshot as read into memory (parse.ts reads it): its own module, so that what
// reads a snapshot and what groups its objects (classes.ts) do not import each other.
import type { SnapshotHeader } from './header.js';
import type { NodeColumns } from './scanner.js';

/** Node fields by ordinal (row number): `type` indexes header.nodeTypes, `name` the strings. */
export interface SnapshotNodes extends NodeColumns {
  readonly count: number;
}

export interface HeapSnapshot {
  readonly header: SnapshotHeader;
  readonly nodes: SnapshotNodes;
  readonly edgeCount: number;
  readonly stringCount: number;
  /** A string kept while reading (see ParseOptions.keepStrings); undefined for the others. */
  string(index: number): string | undefined;
}
