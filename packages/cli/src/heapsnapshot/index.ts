// Heap snapshot reading and comparison for `opsctl heapdump` (validation) and `opsctl
// heapdiff` (two- and three-snapshot reports, who holds what grows): the public API.
// Everything else is internal.
export { HEAPSNAPSHOT_ERROR_CODES, HeapSnapshotError, isHeapSnapshotError, type HeapSnapshotErrorCode } from './errors.js';
export type { SnapshotHeader } from './header.js';
export { DEFAULT_CHUNK_BYTES, readFileChunks, type ReadOptions, type SnapshotSource } from './source.js';
export type { SnapshotCounts } from './scanner.js';
export { validateHeapSnapshot } from './validate.js';
export { parseHeapSnapshot, type HeapSnapshot, type ParseOptions, type SnapshotEdges, type SnapshotNodes } from './parse.js';
export { classNamesByType, classNameStrings, idsOfGroup, summarizeByClass, type ClassGroup, type ClassSummary } from './classes.js';
export type { RankBy, RankOptions } from './rank.js';
export { diffClassSummaries, diffHeapSnapshots, type ClassDelta, type DiffOptions, type HeapDiff, type HeapTotals } from './diff.js';
export { findRetainedAllocations, type RetainedOptions } from './retained.js';
export type {
  HolderClass,
  HolderExample,
  HolderReport,
  PathOrigin,
  PathStep,
  RetainerHolder,
  RetainerOptions,
  RetainerPath,
} from './retainers.js';
