// Checks that a snapshot file is complete and consistent, every edge included, storing
// nothing: memory stays flat whatever the file's size. `opsctl snapshots get` runs it on
// a download; parseHeapSnapshot runs the same checks as it reads. (`opsctl heapdump`
// checks its download as it arrives, counting the edges rather than reading them:
// verify-stream.ts.)
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
