// Checks that a snapshot file is complete and consistent, storing nothing: memory stays
// flat whatever the file's size. `opsctl heapdump` runs it on a download before renaming
// the file into place; parseHeapSnapshot runs the same checks as it reads.
import type { SnapshotCounts } from './scanner.js';
import { scanSnapshot, type ReadOptions, type SnapshotSource } from './source.js';

/**
 * Resolves with the header and counts when the snapshot is complete and well formed;
 * rejects with a HeapSnapshotError (NOT_A_HEAPSNAPSHOT, HEAPSNAPSHOT_TRUNCATED,
 * HEAPSNAPSHOT_MALFORMED) otherwise. File system errors (ENOENT…) pass through unchanged.
 */
export async function validateHeapSnapshot(source: SnapshotSource, options: ReadOptions = {}): Promise<SnapshotCounts> {
  return scanSnapshot(source, {}, options);
}
