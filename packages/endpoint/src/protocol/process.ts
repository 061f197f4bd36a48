// What the endpoint tells of the application's process: who answered (GET /info), its
// main thread (GET /stack, GET /blocks), its workers, health, memory and profiles.
import type { CaptureStatus } from './capture.js';
import type { Scope } from './scopes.js';

export interface InstanceInfo {
  host: string;
  pid: number;
  startTime: string;
  uptimeSeconds: number;
  node: string;
  v8: string;
  platform: string;
  arch: string;
  app: { name: string; version: string | null };
}

export interface InfoResponse {
  protocol: 1;
  instance: InstanceInfo;
  caller: { token: string; scopes: Scope[] };
  capabilities: string[];
  /** Automatic heap snapshots; null when the application did not configure them, or while the main thread is blocked. */
  capture: CaptureStatus | null;
  /** Worker threads the application registered with `registerWorker()`; null while the main thread is blocked. */
  workers: { name: string; threadId: number }[] | null;
  /** How the application's main thread is doing, as the endpoint's own thread sees it. */
  mainThread: MainThreadStatus;
}

/** One frame of a JavaScript stack; line and column count from 1. */
export interface StackFrame {
  function: string;
  file: string;
  line: number;
  column: number;
}

export interface MainThreadStatus {
  /**
   * True when the endpoint runs on a thread of its own and watches the main thread's event
   * loop (its own port); false when mounted in the application's server, where nothing
   * answers while the main thread is blocked.
   */
  watched: boolean;
  /** The event loop has not turned for longer than the watchdog's threshold. */
  blocked: boolean;
  /** How long it has been blocked; 0 when it is not. */
  blockedForMs: number;
  /** How long since the event loop last turned. */
  lagMs: number;
  /** Where it is blocked (innermost frame first), when a stack was taken. */
  stack: StackFrame[] | null;
  /** Why there is no stack, when it is blocked without one. */
  stackNote: string | null;
  /** A heap snapshot the endpoint is writing now: it blocks the loop on purpose. */
  snapshot: { elapsedMs: number; expectedMs: number } | null;
}

/** A time the main thread's event loop was blocked past the watchdog's threshold. */
export interface BlockRecord {
  id: number;
  startedAt: string;
  durationMs: number;
  /** `heap-snapshot`: the endpoint's own snapshot, which blocks on purpose. */
  cause: 'javascript' | 'heap-snapshot';
  stack: StackFrame[] | null;
  stackNote: string | null;
}

/** GET /stack: the main thread's stack now. */
export interface StackResponse {
  mainThread: MainThreadStatus;
}

/** GET /blocks: the blocks the watchdog recorded, oldest first. */
export interface BlocksResponse {
  thresholdMs: number;
  blocks: BlockRecord[];
  mainThread: MainThreadStatus;
}

/** One line of the GET /blocks/stream NDJSON stream. */
export type BlocksStreamLine = ({ type: 'status' } & BlocksResponse) | { type: 'block'; block: BlockRecord } | { type: 'heartbeat'; time: number };

/** What GET /profile records: a CPU profile, or a sampling heap profile. */
export const PROFILE_KINDS = ['cpu', 'heap'] as const;
export type ProfileKind = (typeof PROFILE_KINDS)[number];

/** V8 heap statistics of a worker thread, in bytes. */
export interface WorkerHeapStatistics {
  usedHeapSize: number;
  totalHeapSize: number;
  heapSizeLimit: number;
  externalMemory: number;
  mallocedMemory: number;
}

export interface WorkerInfo {
  name: string;
  threadId: number;
  /** Null where Node cannot read a worker's heap (before 22.16): `heapUnavailable` says so. */
  heap: WorkerHeapStatistics | null;
  heapUnavailable: string | null;
  /** The limits the worker was started with (MB), when any were given. */
  resourceLimits: Record<string, number>;
}

export interface WorkersResponse {
  workers: WorkerInfo[];
}

export interface HealthResponse {
  status: 'ok';
  uptimeSeconds: number;
}

export type MemoryLimitSource = 'cgroup-v2' | 'cgroup-v1' | 'system' | 'configured';

export interface MemoryLimit {
  /** Where the limit comes from: the container's cgroup, else the machine's RAM, or the application's `memoryLimitBytes` when tighter. */
  source: MemoryLimitSource;
  limitBytes: number;
  /** Memory the limit counts as used now (cgroup usage, or RAM in use machine-wide). */
  usedBytes: number;
  /** limitBytes - usedBytes, never negative. */
  headroomBytes: number;
}

export interface MemoryResponse {
  process: NodeJS.MemoryUsage;
  heap: {
    totalHeapSize: number;
    usedHeapSize: number;
    heapSizeLimit: number;
    mallocedMemory: number;
    externalMemory: number;
    numberOfNativeContexts: number;
    numberOfDetachedContexts: number;
  };
  heapSpaces: { name: string; sizeBytes: number; usedBytes: number; availableBytes: number }[];
  limit: MemoryLimit;
}

/** Details of a LOW_MEMORY refusal of a heap snapshot. */
export interface LowMemoryDetails {
  estimatedExtraBytes: number;
  headroomBytes: number;
  limitBytes: number;
  limitSource: MemoryLimitSource;
  memoryFactor: number;
}
