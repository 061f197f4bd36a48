// The wire contract between @opsctl/endpoint and the opsctl CLI: error codes with
// their statuses, scopes, header names and response shapes. Codes are permanent;
// messages may improve. Clients match `code`, never wording.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

export const SCOPES = ['metrics', 'read', 'heap', 'profile', 'actions', 'repl', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * What each scope grants: metrics < read < heap / profile / actions < repl; admin is
 * everything. `metrics` is for a scraper: numbers only (GET /metrics), nothing else.
 */
export const SCOPE_GRANTS: Readonly<Record<Scope, readonly Scope[]>> = {
  metrics: ['metrics'],
  read: ['read', 'metrics'],
  heap: ['heap', 'read', 'metrics'],
  profile: ['profile', 'read', 'metrics'],
  actions: ['actions', 'read', 'metrics'],
  repl: ['repl', 'heap', 'profile', 'actions', 'read', 'metrics'],
  admin: SCOPES,
};

/** The scopes as a sentence lists them: "metrics, read, heap, profile, actions, repl, admin". */
export const SCOPE_LIST = SCOPES.join(', ');

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** True when a token holding `held` may use a route that requires `required`. */
export function scopeAllows(held: readonly Scope[], required: Scope): boolean {
  return held.some((scope) => SCOPE_GRANTS[scope].includes(required));
}

export const ERRORS = {
  BAD_REQUEST: { status: 400, message: 'The request is not valid HTTP.' },
  BAD_PARAM: { status: 400, message: 'A parameter is not valid.' },
  AUTH_MALFORMED: { status: 400, message: 'The Authorization header is malformed; send exactly one "Authorization: Bearer <token>".' },
  AUTH_REQUIRED: { status: 401, message: 'A bearer token is required.' },
  AUTH_INVALID: { status: 401, message: 'The bearer token is not valid.' },
  SCOPE_MISSING: { status: 403, message: 'The token lacks the scope this route requires.' },
  NOT_FOUND: { status: 404, message: 'No such route.' },
  UNKNOWN_ACTION: { status: 404, message: 'The application has no action by that name.' },
  UNKNOWN_SNAPSHOT: { status: 404, message: 'No captured heap snapshot has that id.' },
  UNKNOWN_WORKER: { status: 404, message: 'No registered worker thread has that name.' },
  FEATURE_DISABLED: { status: 404, message: 'This feature is not enabled in the application.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'The method is not allowed on this route.' },
  REQUEST_TIMEOUT: { status: 408, message: 'The request did not arrive in time.' },
  BODY_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  RANGE_NOT_SATISFIABLE: { status: 416, message: 'The requested byte range lies outside the file.' },
  EXPECTATION_FAILED: { status: 417, message: 'The endpoint meets no Expect header but "100-continue".' },
  HEADERS_TOO_LARGE: { status: 431, message: 'The request headers are too large.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The request body must be JSON.' },
  BAD_BODY: { status: 400, message: 'The request body is not valid JSON.' },
  // The request was valid and the action ran, but the application's code threw: its own
  // failure, not the endpoint's (500) and not a success (200), so scripts see it fail.
  ACTION_FAILED: { status: 422, message: 'The action failed.' },
  THROTTLED: { status: 429, message: 'Too many failed authentication attempts from this address.' },
  BUSY: { status: 429, message: 'The same operation is already running.' },
  LOW_MEMORY: { status: 503, message: 'Not enough memory headroom for this operation.' },
  LOW_DISK: { status: 507, message: 'Not enough free disk space for this operation.' },
  SHUTTING_DOWN: { status: 503, message: 'The endpoint is shutting down.' },
  MAIN_THREAD_BLOCKED: { status: 503, message: 'The application\'s main thread is blocked and cannot do this now.' },
  TOO_MANY_CONNECTIONS: { status: 503, message: 'All connections for authenticated callers are in use; close some and try again.' },
  SNAPSHOT_DIR_UNAVAILABLE: { status: 503, message: 'The directory heap snapshots are written to cannot be used.' },
  INTERNAL: { status: 500, message: 'The endpoint failed unexpectedly.' },
  // The endpoint waited on the application's code as a gateway waits on an upstream.
  ACTION_TIMEOUT: { status: 504, message: 'The action did not finish within its time limit.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERRORS, value);
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

/** Names the process that answered, on every response: `<host>; pid=<pid>; start=<ISO time>`. */
export const INSTANCE_HEADER = 'opsctl-instance';
/** Sent before a heap snapshot starts: bytes of JS heap in use, and the expected pause. */
export const HEAP_USED_HEADER = 'opsctl-heap-used';
export const EXPECTED_PAUSE_HEADER = 'opsctl-expected-pause-ms';
/** Estimated size of the uncompressed snapshot, for a progress bar: the real size is known only at the end. */
export const ESTIMATED_SIZE_HEADER = 'opsctl-estimated-bytes';

/**
 * A trailer of streamed answers: the error body (JSON, as in an error response) when the
 * operation failed after the 200 and its headers were sent.
 */
export const ERROR_TRAILER = 'opsctl-error';
/**
 * A trailer of GET /heapdump: how long V8 took to write the snapshot (the process, or
 * the worker, was paused that long). The body's first bytes leave before the write has
 * ended, so the time to the first byte no longer tells.
 */
export const PAUSE_TRAILER = 'opsctl-pause-ms';

/**
 * Sent by a client with GET /heapdump: which running kernel it is on (kernelKey()). An
 * endpoint on the same kernel sends the snapshot uncompressed even when gzip is
 * accepted: the bytes only cross memory, and gzip would cost more CPU than the copy
 * (measured: gzip level 1 at 125-180 MB/s, gunzip at 180-350 MB/s, on a machine whose
 * other core is writing the snapshot; docs/benchmarks.md#heap-snapshots). Over any network, gzip level 1 (6-6.5:1) wins up
 * to about 1 Gbit/s. The host's address cannot tell: behind `kubectl port-forward` both
 * sides see loopback while the bytes cross a network.
 */
export const KERNEL_HEADER = 'opsctl-kernel';

let kernel: string | null | undefined;

/**
 * A key for the running kernel: a hash of Linux's boot id (random at each boot, the same
 * inside and outside containers, which share the kernel), or null where there is none.
 * The hash keeps the id itself to this machine.
 */
export function kernelKey(): string | null {
  if (kernel !== undefined) return kernel;
  try {
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    kernel = bootId === '' ? null : createHash('sha256').update(`opsctl kernel ${bootId}`).digest('base64url').slice(0, 32);
  } catch {
    kernel = null;
  }
  return kernel;
}

/**
 * REPL sessions carry messages for the client program itself inside the terminal stream,
 * as an OSC string no terminal acts on: ESC ] 7777 ; <kind> ; <base64 of UTF-8> BEL.
 *   history  client → session: the operator's earlier lines, JSON array, newest first
 *   line     session → client: a line the session evaluated, to keep in that history
 */
export const REPL_PRIVATE_OSC = '7777';
export type ReplPrivateKind = 'history' | 'line';

/** The private message `kind` with `text`, as it travels in the stream. */
export function replPrivateMessage(kind: ReplPrivateKind, text: string): string {
  return `\u001b]${REPL_PRIVATE_OSC};${kind};${Buffer.from(text, 'utf8').toString('base64')}\u0007`;
}

/** Sent by the REPL client when it upgrades: `tty=1; cols=120; rows=40`. */
export const TERMINAL_HEADER = 'opsctl-terminal';
/** The Upgrade protocol token of REPL sessions. */
export const REPL_PROTOCOL = 'opsctl-repl';

export interface ReplStatus {
  sessions: number;
  maxSessions: number;
  evalTimeoutMs: number;
  idleTimeoutMs: number;
  prompt: string;
}

export interface EvalRequest {
  code: string;
  /** Limit for the synchronous part, and for awaiting a returned promise; at most the endpoint's maximum. */
  timeoutMs?: number;
}

/** An error raised by evaluated code. */
export interface EvalError {
  name: string;
  message: string;
  stack: string | null;
}

/**
 * The answer of POST /eval. `uncaught` lists errors the input raised on its own after it
 * was evaluated (a promise it left unhandled rejected, a callback it scheduled threw)
 * before the answer was sent; they were contained and reached nothing else.
 */
export type EvalResponse = (
  | { ok: true; result: string; type: string; output: string; durationMs: number }
  | { ok: false; error: EvalError; timedOut: boolean; output: string; durationMs: number }
) & { uncaught?: EvalError[] };

export type { LeakCondition, LeakLevel, LeakPoints, LeakSeriesEvidence, LeakSettings, LeakVerdict, MemorySample } from './diagnostics/leak-verdict.js';
export type { GcRequestResult, LeakEvent, LeakStatus } from './diagnostics/leak-monitor.js';
export type { SamplerStats } from './diagnostics/gc-sampler.js';
export type { ForcedGcRefusal, ForcedGcRefusalCode } from './diagnostics/forced-gc.js';

/** One line of the GET /leaks/stream NDJSON stream. */
export type LeakStreamLine =
  | ({ type: 'status' } & import('./diagnostics/leak-monitor.js').LeakStatus)
  | import('./diagnostics/leak-monitor.js').LeakEvent
  | { type: 'heartbeat'; time: number };

/** Details of a LOW_MEMORY refusal of a heap snapshot. */
export interface LowMemoryDetails {
  estimatedExtraBytes: number;
  headroomBytes: number;
  limitBytes: number;
  limitSource: MemoryLimitSource;
  memoryFactor: number;
}

export const TOKEN_PREFIX = 'opsctl_';

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
export type BlocksStreamLine =
  | ({ type: 'status' } & BlocksResponse)
  | { type: 'block'; block: BlockRecord }
  | { type: 'heartbeat'; time: number };

/** Sent when a profile starts: how long it will run before the body arrives. */
export const PROFILE_SECONDS_HEADER = 'opsctl-profile-seconds';
export const PROFILE_KINDS = ['cpu', 'heap'] as const;
export type ProfileKind = (typeof PROFILE_KINDS)[number];

export type ActionParamType = 'string' | 'number' | 'boolean' | 'enum';
/** The longest time limit an action may have: the endpoint answers a run within it. */
export const ACTION_TIMEOUT_MAX_MS = 10 * 60_000;

/** One parameter of an action, as GET /actions lists it. */
export interface ActionParamInfo {
  type: ActionParamType;
  description: string | null;
  required: boolean;
  /** Applied when the parameter is not given; absent when there is none. */
  default?: string | number | boolean;
  /** The allowed values of an `enum`. */
  values?: string[];
  /** Its value is never written to the audit log. */
  secret: boolean;
}

export interface ActionInfo {
  name: string;
  description: string;
  params: Record<string, ActionParamInfo>;
  timeoutMs: number;
  /** Runs of this action allowed at once; more are refused with 429. */
  concurrency: number;
}

export interface ActionsResponse {
  actions: ActionInfo[];
}

/** POST /actions/NAME. Numbers and booleans may also be given as strings ("42", "true"). */
export interface ActionRunRequest {
  params?: Record<string, string | number | boolean>;
}

export interface ActionRunResponse {
  action: string;
  /** What the action returned, as JSON (undefined becomes null). */
  result: unknown;
  durationMs: number;
}

export const CAPTURE_RULES = ['heap-above', 'leak-suspected', 'near-heap-limit'] as const;
export type CaptureRule = (typeof CAPTURE_RULES)[number];

/** A heap snapshot the endpoint captured by itself, stored gzip-compressed. */
export interface CapturedSnapshot {
  /** `<UTC time>-<rule>-<random>`: safe in a URL and a file name. */
  id: string;
  /** ISO time of the capture. */
  time: string;
  rule: CaptureRule;
  /** Why the rule fired, as a sentence. */
  reason: string;
  /** Bytes stored and served (gzip). */
  bytes: number;
  /** SHA-256 of the stored bytes, hex: the download's ETag. */
  sha256: string;
  /** Size of the snapshot uncompressed. */
  snapshotBytes: number;
  heapUsedBytes: number;
  /** How long the event loop was blocked writing it. */
  pauseMs: number;
  app: string;
  host: string;
  pid: number;
}

/**
 * Why a rule fired without a capture, stable for machines: another snapshot was running;
 * `maxCount` captures are stored; the capture could overrun `maxDiskBytes`; the memory
 * or disk preflight refused; writing failed; the directory cannot be used.
 */
export const CAPTURE_SKIP_REASONS = ['busy', 'max-count', 'disk-budget', 'low-memory', 'low-disk', 'write-failed', 'dir-unusable'] as const;
export type CaptureSkipReason = (typeof CAPTURE_SKIP_REASONS)[number];

/** A rule fired: what came of it. */
export interface CaptureEvent {
  time: string;
  rule: CaptureRule;
  outcome: 'captured' | 'skipped' | 'failed';
  /** The capture's id when one was stored. */
  id: string | null;
  /** Null when captured. */
  reason: CaptureSkipReason | null;
  /** A sentence: what was stored, or why not. */
  message: string;
}

export interface CaptureStatus {
  /** False when the directory cannot be used: `disabledReason` says why. */
  enabled: boolean;
  disabledReason: string | null;
  dir: string;
  rules: { heapAboveBytes: number | null; onLeakSuspected: boolean; nearHeapLimitRatio: number | null };
  cooldownMs: number;
  maxCount: number;
  maxDiskBytes: number;
  /** Captures stored now, and their bytes. */
  count: number;
  diskBytes: number;
  lastEvent: CaptureEvent | null;
}

export interface SnapshotsResponse {
  snapshots: CapturedSnapshot[];
  capture: CaptureStatus;
}

export interface SnapshotDeleteResponse {
  deleted: CapturedSnapshot;
}

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

/**
 * Loopback hosts: localhost, 127.0.0.0/8, ::1 (bracketed or not). The only hosts a
 * token may reach over plain http, on either side, unless explicitly allowed.
 */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare.toLowerCase().startsWith('::ffff:127.');
  return false;
}
