// What the endpoint's routes may ask of the application's process. Routes run where the
// HTTP server runs: on the endpoint's own thread (its own port, the default), or on the
// main thread (mounted in the application's server). Everything that must happen on the
// main thread, where the application's heap, event loop and objects are (heap snapshots,
// the REPL, actions, profiles, leak samples, memory figures), is behind this interface:
// LocalHost does it in place; RemoteHost asks the main thread over a MessagePort.
// Arguments and results are plain data, so that both can carry them.
import type { Duplex } from 'node:stream';
import type { SnapshotEstimate } from '../diagnostics/heap-snapshot.js';
import type { Caller } from '../audit.js';
import type { EventLoopDelay, GcKind } from '../diagnostics/runtime-metrics.js';
import type {
  ActionInfo,
  CapturedSnapshot,
  CaptureStatus,
  EvalResponse,
  LeakEvent,
  LeakLevel,
  LeakStatus,
  MemoryLimit,
  MemoryResponse,
  ProfileKind,
  SnapshotsResponse,
  WorkerInfo,
} from '../protocol/index.js';

export type SnapshotPlan =
  | {
      kind: 'ok';
      estimate: SnapshotEstimate;
      limit: MemoryLimit;
      /** Whose heap the estimate weighs: a worker's, or the main thread's (for a worker, in its stead: Node before 22.16 cannot tell a worker's heap size). */
      basis: 'main-thread' | 'worker';
    }
  | { kind: 'unknown-worker' };

export type SnapshotWrite =
  /** The file is in the directory the caller gave; the caller streams and removes it. */
  { kind: 'written'; path: string; bytes: number; pauseMs: number } | { kind: 'failed'; errno: string | null; message: string };

export interface ReplSessionRequest {
  terminal: boolean;
  columns: number;
  rows: number;
  caller: Caller;
}

export interface Evaluation {
  answer: EvalResponse;
  /** For the route's audit event. */
  outcome: 'ok' | 'error' | 'timeout';
  uncaught: number;
}

export type ActionRun =
  | { kind: 'unknown' }
  | { kind: 'busy'; message: string; retryAfterSeconds: number }
  | { kind: 'invalid'; message: string; param: string | null }
  /** `resultJson`: the result as JSON bytes, made on the main thread (they move, not copy, to the endpoint's thread). */
  | { kind: 'ok'; resultJson: Uint8Array; durationMs: number; params: Record<string, unknown> }
  | { kind: 'failed'; error: { name: string; message: string; code: string | null }; durationMs: number; params: Record<string, unknown> }
  | { kind: 'timeout'; timeoutMs: number; durationMs: number; params: Record<string, unknown> }
  /** The caller went away or the endpoint is closing: nobody to answer. */
  | { kind: 'aborted'; durationMs: number; params: Record<string, unknown> };

/** The main thread's figures for GET /metrics: read in one go, cheaply. */
export interface MainMetrics {
  residentBytes: number;
  heapUsedBytes: number;
  heapSizeLimitBytes: number;
  memoryLimit: MemoryLimit;
  /** The leak monitor's newest post-GC sample; null when leak detection is off or none was taken yet. */
  afterGc: { heapUsedBytes: number; externalBytes: number } | null;
  /** Per series: the verdict's level and the trend's growth; null when leak detection is off. */
  leak: Record<'heapUsed' | 'external', { level: LeakLevel; growthBytesPerSecond: number | null }> | null;
  eventLoopDelay: EventLoopDelay | null;
  gc: Record<GcKind, { collections: number; pauseSeconds: number }>;
  heapSnapshots: { count: number; pauseSeconds: number };
  profiles: { cpu: number; heap: number };
  /** Automatic capture's attempts by outcome; null when it is not configured. */
  captures: Record<'captured' | 'skipped' | 'failed', number> | null;
}

export interface StoredCaptureFile {
  entry: CapturedSnapshot;
  path: string;
}

export interface Host {
  memory(): Promise<MemoryResponse>;
  metrics(): Promise<MainMetrics>;
  /** Node's diagnostic report, redacted, as JSON text. */
  /** The report as JSON bytes. */
  report(): Promise<Uint8Array>;
  workers(): Promise<WorkerInfo[]>;
  workerNames(): Promise<{ name: string; threadId: number }[]>;

  /** What a heap snapshot of the main thread (or of the registered worker `worker`) would cost, and the room it has. */
  snapshotPlan(worker: string | null): Promise<SnapshotPlan>;
  /** Writes the snapshot as `dir`/`name`; the main thread is paused meanwhile (a worker's own thread, for a worker). */
  writeSnapshot(dir: string, name: string, worker: string | null): Promise<SnapshotWrite>;

  leakStatus(gc: boolean): Promise<LeakStatus>;
  /** Calls `onEvent` with each leak-monitor event until `signal` aborts. */
  watchLeaks(onEvent: (event: LeakEvent) => void, signal: AbortSignal): Promise<void>;

  /** Why the REPL cannot run in this process, or null when it can. */
  replUnavailable(): Promise<string | null>;
  /** Runs a REPL session on `stream` (the 101 already sent); resolves when it has ended, with how many inputs it evaluated. */
  runRepl(stream: Duplex, request: ReplSessionRequest, signal: AbortSignal): Promise<{ lines: number }>;
  evaluate(code: string, timeoutMs: number, caller: Caller): Promise<Evaluation>;

  /** Starts a profile; its id, or why this process cannot profile. */
  startProfile(kind: ProfileKind, interval: number): Promise<{ id: number } | { unavailable: string }>;
  /** The profile as JSON text. */
  /** The profile as JSON bytes. */
  stopProfile(id: number): Promise<Uint8Array>;
  cancelProfile(id: number): Promise<void>;

  actions(): Promise<ActionInfo[]>;
  runAction(name: string, params: unknown, caller: Caller, signal: AbortSignal): Promise<ActionRun>;

  captureStatus(): Promise<CaptureStatus | null>;
  captures(): Promise<SnapshotsResponse>;
  findCapture(id: string): Promise<StoredCaptureFile | null>;
  removeCapture(id: string): Promise<CapturedSnapshot | null>;
}
