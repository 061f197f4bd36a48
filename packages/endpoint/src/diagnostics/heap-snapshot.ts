// Heap snapshots without HTTP: what one will cost, and taking one into a private file.
//
// Measured on this project's machines (Node 20.20 and 24.21, 16-500 MB heaps, one fresh
// process per run, VmHWM reset before the snapshot): V8 builds the whole snapshot graph
// in memory before writing a byte, 470-600 bytes of RSS per heap object, which for heaps
// of small objects is 13-18x heapUsed on top of the process (200 MB heap: +2.8 GB on
// Node 24, +3.1 GB on Node 20; 500 MB: +8.6 GB). Big strings, big arrays and Buffers
// cost almost nothing (168 MB of large-object space: +26-49 MB), so the estimate counts
// the spaces that hold small objects only. Heaps of many short distinct strings cost
// 39-45x heapUsed, which is 55-60x per byte outside the large-object spaces (what
// memoryFactor multiplies): nothing cheap tells them apart, so for them the estimate is
// ~2.5x too low (raise memoryFactor). The event loop is blocked for the whole write.
import { statSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { getHeapSpaceStatistics, getHeapStatistics, writeHeapSnapshot } from 'node:v8';
import { makePrivateTempDir, type PrivateTempDir } from './temp-dirs.js';

/** The prefix of the private directories /heapdump writes snapshots into (swept when the endpoint starts). */
export const HEAP_TEMP_PREFIX = 'opsctl-heap-';

/**
 * Extra peak RSS per byte used outside the large-object spaces (not per byte of
 * heapUsed). Measured 13-20 for objects (estimate/actual 1.3-1.8 with 24), 55-60 for
 * short-string heaps (39-45 per byte of their heapUsed).
 */
export const SMALL_OBJECT_MEMORY_FACTOR = 24;
/** Extra peak RSS of even a near-empty heap's snapshot (measured 25-50 MB). */
const SNAPSHOT_BASE_BYTES = 64 * 1024 * 1024;
/** The file's size per byte of heap used, for progress (measured 1.8-2.0 for objects). */
const FILE_BYTES_PER_HEAP_BYTE = 2;
/** The same, at its worst (short strings: 2.8-3.2), for the free-disk check. */
const FILE_BYTES_PER_HEAP_BYTE_MAX = 3.2;
/** Event-loop pause per MB of heap used: measured 120-150 ms on Node 20, 55-80 ms on Node 22+. */
export const PAUSE_MS_PER_HEAP_MB = Number(process.versions.node.split('.')[0]) >= 22 ? 80 : 150;

export interface SnapshotEstimate {
  heapUsedBytes: number;
  /** Memory the snapshot will take on top of the process, at its peak. */
  extraPeakBytes: number;
  fileBytes: number;
  /** Disk the file may need at worst. */
  maxFileBytes: number;
  pauseMs: number;
  /** The factor applied to the small-object spaces, so a refusal can say what it assumed. */
  memoryFactor: number;
}

/** The estimate for this thread's heap. */
export function estimateSnapshot(memoryFactor = SMALL_OBJECT_MEMORY_FACTOR): SnapshotEstimate {
  let largeObjects = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (space.space_name.includes('large_object')) largeObjects += space.space_used_size;
  }
  return estimateForHeap(getHeapStatistics().used_heap_size, largeObjects, memoryFactor);
}

/** The estimate for any heap, given its bytes used and how many of them are in large-object spaces. */
export function estimateForHeap(heapUsed: number, largeObjects: number, memoryFactor: number): SnapshotEstimate {
  const smallObjects = Math.max(0, heapUsed - largeObjects);
  return {
    heapUsedBytes: heapUsed,
    extraPeakBytes: Math.round(SNAPSHOT_BASE_BYTES + smallObjects * memoryFactor),
    fileBytes: Math.round(heapUsed * FILE_BYTES_PER_HEAP_BYTE),
    maxFileBytes: Math.round(heapUsed * FILE_BYTES_PER_HEAP_BYTE_MAX),
    pauseMs: Math.round((heapUsed / 1024 / 1024) * PAUSE_MS_PER_HEAP_MB),
    memoryFactor,
  };
}

/** Free bytes for an unprivileged writer on the file system holding `dir`. */
export async function freeDiskBytes(dir: string): Promise<number> {
  const fs = await statfs(dir);
  return fs.bavail * fs.bsize;
}

/**
 * A fresh mode-0700 directory under `parent` to write a snapshot into: made before a
 * route promises a snapshot, so that a directory gone or unwritable since the process
 * started is refused with its reason rather than found out after the answer began.
 */
export async function makeSnapshotDir(parent: string = tmpdir()): Promise<PrivateTempDir> {
  return makePrivateTempDir(parent, HEAP_TEMP_PREFIX);
}

/**
 * Writes a heap snapshot of this thread to `path` (in a directory from makeSnapshotDir):
 * v8.writeHeapSnapshot had the lowest peak memory of the methods measured
 * (getHeapSnapshot() buffers the whole serialized snapshot in memory first). The event
 * loop is blocked throughout. The caller streams the file and then removes it.
 */
export function writeSnapshotInto(path: string): { path: string; bytes: number; pauseMs: number } {
  const started = performance.now();
  writeHeapSnapshot(path);
  const pauseMs = Math.round(performance.now() - started);
  return { path, bytes: statSync(path).size, pauseMs };
}
