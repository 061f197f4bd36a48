// Heap snapshot reading and comparison for `opsctl heapdiff` (two- and three-snapshot
// reports, who holds what grows): what operations/heap-diff.ts and the tests use.
// `opsctl heapdump` and `snapshots` import their checks from their own files
// (validate.ts, verify-stream.ts, errors.ts).
export { isHeapSnapshotError } from './errors.js';
export { countingBytes, DEFAULT_CHUNK_BYTES, readFileChunks, type SnapshotSource } from './source.js';
export { parseHeapSnapshot } from './parse.js';
export type { HeapTotals } from './snapshot.js';
export { summarizeByClass } from './classes.js';
export type { RankBy, RankOptions } from './rank.js';
export { diffClassSummaries, diffHeapSnapshots, type ClassDelta, type HeapDiff } from './diff.js';
export { readClassSummary } from './census.js';
export { readClassSummaryOnThread } from './thread-read.js';
export { findRetainedAllocations } from './retained.js';
export type { HolderClass, HolderReport, PathStep, RetainerPath } from './retainers.js';
