// Whether a heap snapshot may be written now, decided in one place for everyone who
// takes one: GET /heapdump turns a refusal into HTTP (503 LOW_MEMORY, 507 LOW_DISK, 503
// SNAPSHOT_DIR_UNAVAILABLE), automatic capture into a skip reason. The memory check
// compares the snapshot's estimated extra peak with the headroom under the process's
// limit (cgroup, else system); the disk check the largest file it may write with the
// free space where it will be written.
import { formatBytes } from '../bytes.js';
import type { MemoryLimit } from '../protocol/index.js';
import { describeFsError } from './capture-store.js';
import { freeDiskBytes, type SnapshotEstimate } from './heap-snapshot.js';

export type PreflightRefusal =
  | { kind: 'low-memory'; message: string }
  | { kind: 'low-disk'; message: string; freeBytes: number }
  | { kind: 'dir-unusable'; message: string };

export interface PreflightInput {
  estimate: SnapshotEstimate;
  limit: MemoryLimit;
  /** Where the snapshot will be written. */
  dir: string;
  /** False when the operator accepted the risk of running out of memory. */
  checkMemory: boolean;
}

/** Null when the snapshot may go ahead, else why not, in a sentence. */
export async function snapshotPreflight({ estimate, limit, dir, checkMemory }: PreflightInput): Promise<PreflightRefusal | null> {
  if (checkMemory && estimate.extraPeakBytes > limit.headroomBytes) {
    return {
      kind: 'low-memory',
      message: `A heap snapshot would need about ${formatBytes(estimate.extraPeakBytes)} more memory, but only ${formatBytes(limit.headroomBytes)} is left under the ${limit.source} limit of ${formatBytes(limit.limitBytes)}; the process could be OOM-killed.`,
    };
  }
  let freeBytes: number;
  try {
    freeBytes = await freeDiskBytes(dir);
  } catch (error) {
    return { kind: 'dir-unusable', message: `Heap snapshots are written into ${dir}, which cannot be used now (${describeFsError(error)}).` };
  }
  if (freeBytes < estimate.maxFileBytes) {
    return {
      kind: 'low-disk',
      freeBytes,
      message: `A heap snapshot may need up to ${formatBytes(estimate.maxFileBytes)} of disk in ${dir}, but only ${formatBytes(freeBytes)} is free.`,
    };
  }
  return null;
}
