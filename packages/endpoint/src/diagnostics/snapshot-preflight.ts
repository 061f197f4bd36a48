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

/**
 * Pacing of the heap snapshots asked for over HTTP (GET /heapdump; automatic capture has
 * its own cooldown, capture.ts): after a snapshot that paused its thread for P, the next
 * of that thread may start no sooner than P after the pause ended, so that one caller
 * asking back to back keeps it paused at most half the time. One heap-scope token looping
 * on /heapdump otherwise kept a 20 MB-heap application paused almost all the time. Each
 * thread (the main one, each registered worker) is paced on its own: a worker's pause
 * does not stop the main thread.
 */
export class SnapshotPacing {
  readonly #threads = new Map<string, { nextAt: number; pauseMs: number; paused: string }>();
  readonly #clock: () => number;

  constructor(clock: () => number = () => performance.now()) {
    this.#clock = clock;
  }

  /** When a snapshot of `thread` has been written: it was paused `pauseMs`; `paused` names it ("the application", `the worker thread "x"`). */
  ended(thread: string, pauseMs: number, paused: string): void {
    const now = this.#clock();
    for (const [name, pace] of this.#threads) if (pace.nextAt <= now) this.#threads.delete(name);
    const pause = Math.max(0, pauseMs);
    this.#threads.set(thread, { nextAt: now + pause, pauseMs: pause, paused });
  }

  /** Null when a snapshot of `thread` may start now, else how long to wait and why, in a sentence. */
  refusal(thread: string): { message: string; retryInMs: number; previousPauseMs: number } | null {
    const pace = this.#threads.get(thread);
    if (pace === undefined) return null;
    const waitMs = Math.ceil(pace.nextAt - this.#clock());
    if (waitMs <= 0) return null;
    return {
      message: `The previous heap snapshot paused ${pace.paused} for ${seconds(pace.pauseMs)}; the next may start in ${seconds(waitMs)}.`,
      retryInMs: waitMs,
      previousPauseMs: Math.round(pace.pauseMs),
    };
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
