// Heap snapshots without HTTP: what one will cost, and taking one into a private file.
//
// Measured here (scripts/bench/heapdump.mjs, and the calibration in the README): V8
// builds the whole snapshot graph in memory before writing a byte, about 500 bytes of
// RSS per heap object, which for heaps of small objects is ~15x heapUsed on top of the
// process (200 MB heap: +3.2 GB). Big strings and buffers cost far less per byte, so the
// estimate is per byte of the spaces that hold small objects, with a small factor for
// the large-object space. The event loop is blocked for the whole write.
import { mkdtemp, rm, stat, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSpaceStatistics, getHeapStatistics, writeHeapSnapshot } from 'node:v8';

/** Extra peak RSS per byte used in the spaces of small objects (measured 13-17x; rounded up). */
export const SMALL_OBJECT_MEMORY_FACTOR = 18;
/** Extra peak RSS per byte used in large-object spaces (big arrays and strings: few nodes). */
export const LARGE_OBJECT_MEMORY_FACTOR = 1;
/** Fixed extra peak RSS of any snapshot: the serializer's buffers and V8's bookkeeping. */
export const SNAPSHOT_BASE_BYTES = 64 * 1024 * 1024;
/** The file's size per byte of heap used (measured 1.8-2.0x); for progress and disk checks. */
export const FILE_BYTES_PER_HEAP_BYTE = 2.1;
/** Event-loop pause per MB of heap used (measured ~80 ms/MB on Node 24, ~150 on Node 20). */
export const PAUSE_MS_PER_HEAP_MB = 160;

export interface SnapshotEstimate {
  heapUsedBytes: number;
  /** Memory the snapshot will take on top of the process, at its peak. */
  extraPeakBytes: number;
  fileBytes: number;
  pauseMs: number;
  /** The factor applied to the small-object spaces, so a refusal can say what it assumed. */
  memoryFactor: number;
}

export function estimateSnapshot(memoryFactor = SMALL_OBJECT_MEMORY_FACTOR): SnapshotEstimate {
  const heapUsed = getHeapStatistics().used_heap_size;
  let largeObjects = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (space.space_name.includes('large_object')) largeObjects += space.space_used_size;
  }
  const smallObjects = Math.max(0, heapUsed - largeObjects);
  return {
    heapUsedBytes: heapUsed,
    extraPeakBytes: Math.round(SNAPSHOT_BASE_BYTES + smallObjects * memoryFactor + largeObjects * LARGE_OBJECT_MEMORY_FACTOR),
    fileBytes: Math.round(heapUsed * FILE_BYTES_PER_HEAP_BYTE),
    pauseMs: Math.round((heapUsed / 1024 / 1024) * PAUSE_MS_PER_HEAP_MB),
    memoryFactor,
  };
}

/** Free bytes for an unprivileged writer on the file system holding `dir`. */
export async function freeDiskBytes(dir: string): Promise<number> {
  const fs = await statfs(dir);
  return fs.bavail * fs.bsize;
}

export interface SnapshotFile {
  path: string;
  bytes: number;
  /** How long the event loop was blocked writing it. */
  pauseMs: number;
  /** Removes the file and its private directory; safe to call more than once. */
  remove(): Promise<void>;
}

/**
 * Writes a heap snapshot into a fresh mode-0700 directory under `parent`: the lowest
 * peak memory of the methods measured (getHeapSnapshot() buffers the whole serialized
 * snapshot in memory first). The caller streams the file and then removes it.
 */
export async function writeSnapshotFile(parent: string = tmpdir(), name = 'heap.heapsnapshot'): Promise<SnapshotFile> {
  const dir = await mkdtemp(join(parent, 'opsctl-heap-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    const path = join(dir, name);
    const started = performance.now();
    writeHeapSnapshot(path);
    const pauseMs = Math.round(performance.now() - started);
    return { path, bytes: (await stat(path)).size, pauseMs, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
