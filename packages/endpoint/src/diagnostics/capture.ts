// Automatic capture: heap snapshots the endpoint takes by itself when memory goes wrong,
// stored for an operator to fetch later (GET /snapshots). Rules are judged on each
// post-GC sample of the leak monitor, which costs a comparison or two (the leak verdict
// is computed for the monitor's subscribers anyway, ~0.1 ms for an hour of samples):
//
//   heap-above        post-GC heap used above `heapAboveBytes`
//   leak-suspected    the leak verdict is `suspected`
//   near-heap-limit   post-GC heap used at or above `nearHeapLimitRatio` of V8's heap limit
//
// A rule that fires starts an attempt at most once per `cooldownMs` (a snapshot pauses
// the process for seconds and leaves its RSS near the peak: never in a loop). The attempt
// shares the heap-snapshot gate with GET /heapdump, and is skipped (audited, never
// retried at once) when `maxCount` captures are stored, when it could overrun
// `maxDiskBytes` (counted at the worst-case size of the uncompressed file, which exists
// while it is written), or when the memory or disk preflight of /heapdump refuses.
// Captures are never deleted automatically: the first ones, from when trouble began,
// are usually the most telling; an operator removes them (DELETE /snapshots/:id).
// A directory that cannot be written disables capture, with the reason in GET /info and
// an audit event; it never throws at the application.
import { getHeapStatistics } from 'node:v8';
import type { AuditSink } from '../audit.js';
import { formatBytes } from '../bytes.js';
import {
  ERRORS,
  type CaptureEvent,
  type CaptureRule,
  type CaptureSkipReason,
  type CaptureStatus,
  type CapturedSnapshot,
  type ErrorCode,
  type LeakEvent,
} from '../protocol/index.js';
import type { Gate } from '../gate.js';
import { CaptureStore, describeFsError, type SnapshotAnnouncer, type StoredCapture } from './capture-store.js';
import { estimateSnapshot } from './heap-snapshot.js';
import type { LeakMonitor } from './leak-monitor.js';
import { readMemoryLimit } from './memory-limit.js';
import { snapshotPreflight, type PreflightRefusal } from './snapshot-preflight.js';

/** The code a skip for the preflight's reason is audited with, as GET /heapdump would refuse. */
const PREFLIGHT_CODES: Record<PreflightRefusal['kind'], ErrorCode> = {
  'low-memory': 'LOW_MEMORY',
  'low-disk': 'LOW_DISK',
  'dir-unusable': 'SNAPSHOT_DIR_UNAVAILABLE',
};

/** A snapshot pauses the process and raises its RSS for good: at most one per 10 minutes. */
const CAPTURE_COOLDOWN_MS = 10 * 60_000;
/** Three: what the three-snapshot technique (opsctl heapdiff A B C) needs. */
const CAPTURE_MAX_COUNT = 3;
/** Room for the three of a ~300 MB heap while one more is written. */
const CAPTURE_MAX_DISK_BYTES = 2 * 1024 ** 3;

export interface CaptureRuleOptions {
  /** Capture when the heap used after a major GC exceeds this many bytes. */
  heapAboveBytes?: number;
  /** Capture when the leak verdict is `suspected`. */
  onLeakSuspected?: boolean;
  /** Capture when the heap used after a major GC reaches this share (0-1) of V8's heap limit, e.g. 0.85. */
  nearHeapLimitRatio?: number;
}

export interface CaptureOptions {
  /** Where captures are kept; created (mode 0700) if missing. Put it on a volume that outlives the process. */
  dir: string;
  rules: CaptureRuleOptions;
  /** Least time between two attempts. Default 10 minutes. */
  cooldownMs?: number;
  /** Captures kept at most; then rules are skipped until some are removed. Default 3. */
  maxCount?: number;
  /** Bytes the stored captures, and the one being written, may take at most. Default 2 GiB. */
  maxDiskBytes?: number;
}

export interface ResolvedCapture {
  dir: string;
  rules: Readonly<CaptureStatus['rules']>;
  cooldownMs: number;
  maxCount: number;
  maxDiskBytes: number;
}

/** Checks the `capture` option; adds a sentence per problem to `problems`. */
export function resolveCapture(input: CaptureOptions, problems: string[]): Readonly<ResolvedCapture> {
  const fallback = { dir: '', rules: { heapAboveBytes: null, onLeakSuspected: false, nearHeapLimitRatio: null }, cooldownMs: 0, maxCount: 0, maxDiskBytes: 0 };
  if (input === null || typeof input !== 'object') {
    problems.push('`capture` must be an object such as { dir: "/var/lib/app/snapshots", rules: { nearHeapLimitRatio: 0.85 } }');
    return fallback;
  }
  const { dir, rules = {}, cooldownMs = CAPTURE_COOLDOWN_MS, maxCount = CAPTURE_MAX_COUNT, maxDiskBytes = CAPTURE_MAX_DISK_BYTES } = input;
  if (typeof dir !== 'string' || dir === '') problems.push('`capture.dir` must name the directory that keeps the captures');
  const known = ['heapAboveBytes', 'onLeakSuspected', 'nearHeapLimitRatio'];
  if (rules === null || typeof rules !== 'object') {
    problems.push('`capture.rules` must be an object such as { heapAboveBytes: 512 * 1024 ** 2 }');
    return fallback;
  }
  for (const key of Object.keys(rules)) if (!known.includes(key)) problems.push(`\`capture.rules.${key}\` is not a known rule; known: ${known.join(', ')}`);
  const { heapAboveBytes = null, onLeakSuspected = false, nearHeapLimitRatio = null } = rules;
  if (heapAboveBytes !== null && !(Number.isInteger(heapAboveBytes) && heapAboveBytes > 0))
    problems.push('`capture.rules.heapAboveBytes` must be a positive whole number of bytes');
  if (typeof onLeakSuspected !== 'boolean') problems.push('`capture.rules.onLeakSuspected` must be true or false');
  if (nearHeapLimitRatio !== null && !(typeof nearHeapLimitRatio === 'number' && nearHeapLimitRatio > 0 && nearHeapLimitRatio < 1)) {
    problems.push('`capture.rules.nearHeapLimitRatio` must be a number between 0 and 1, such as 0.85');
  }
  if (heapAboveBytes === null && onLeakSuspected !== true && nearHeapLimitRatio === null) {
    problems.push('`capture.rules` sets no rule: give heapAboveBytes, onLeakSuspected or nearHeapLimitRatio');
  }
  if (!Number.isInteger(cooldownMs) || cooldownMs < 0) problems.push('`capture.cooldownMs` must be a whole number of milliseconds, 0 or more');
  if (!Number.isInteger(maxCount) || maxCount <= 0) problems.push('`capture.maxCount` must be a positive whole number');
  if (!Number.isInteger(maxDiskBytes) || maxDiskBytes <= 0) problems.push('`capture.maxDiskBytes` must be a positive whole number of bytes');
  return Object.freeze({ dir, rules: Object.freeze({ heapAboveBytes, onLeakSuspected, nearHeapLimitRatio }), cooldownMs, maxCount, maxDiskBytes });
}

export interface CaptureDeps {
  settings: ResolvedCapture;
  /** The gate /heapdump uses: a capture and a download never snapshot at once. */
  gate: Gate;
  audit: AuditSink | null;
  app: string;
  memoryFactor: number;
  memoryLimitBytes: number | null;
  /** Tells the endpoint's thread that a snapshot blocks the main thread, and for how long it should. */
  announceSnapshot?: SnapshotAnnouncer;
}

interface Attempt {
  rule: CaptureRule;
  reason: string;
}

export class Capture {
  readonly store: CaptureStore;
  /** Attempts by outcome, for GET /metrics. */
  readonly outcomes = { captured: 0, skipped: 0, failed: 0 };
  readonly #deps: CaptureDeps;
  #disabledReason: string | null = null;
  #opened: Promise<void> | null = null;
  #unsubscribe: (() => void) | null = null;
  #lastAttemptAt = Number.NEGATIVE_INFINITY;
  #lastEvent: CaptureEvent | null = null;
  #running: Promise<void> | null = null;
  readonly #stopping = new AbortController();

  constructor(deps: CaptureDeps) {
    this.#deps = deps;
    this.store = new CaptureStore(deps.settings.dir, deps.announceSnapshot);
  }

  /** Opens the directory, then judges the rules on each of the monitor's samples. */
  start(monitor: LeakMonitor): void {
    this.#opened = this.store
      .open()
      .then((problem) => {
        if (problem !== null) return this.#disable(problem);
        if (this.#stopping.signal.aborted) return;
        this.#unsubscribe = monitor.subscribe((event) => this.#onSample(event), { internal: true });
      })
      .catch((error: unknown) => this.#disable(`opening the capture directory failed (${String(error)})`));
  }

  /** Stops judging, aborts a compression in progress and waits for it to clean up. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#opened;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    await this.#running;
  }

  async status(stored?: CapturedSnapshot[]): Promise<CaptureStatus> {
    await this.#opened;
    const entries = stored ?? (await this.store.list());
    const { dir, rules, cooldownMs, maxCount, maxDiskBytes } = this.#deps.settings;
    return {
      enabled: this.#disabledReason === null,
      disabledReason: this.#disabledReason,
      dir,
      rules: { ...rules },
      cooldownMs,
      maxCount,
      maxDiskBytes,
      count: entries.length,
      diskBytes: entries.reduce((sum, e) => sum + e.bytes, 0),
      lastEvent: this.#lastEvent,
    };
  }

  async find(id: string): Promise<StoredCapture | null> {
    return this.store.find(id);
  }

  async remove(id: string): Promise<CapturedSnapshot | null> {
    return this.store.remove(id);
  }

  #onSample(event: LeakEvent): void {
    // Called from the GC sampler: must never throw, and must not snapshot inside it.
    try {
      if (this.#disabledReason !== null || this.#running !== null) return;
      const attempt = this.#fired(event);
      if (attempt === null || Date.now() - this.#lastAttemptAt < this.#deps.settings.cooldownMs) return;
      this.#lastAttemptAt = Date.now();
      this.#running = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => this.#attempt(attempt))
        .catch((error: unknown) => process.emitWarning(`opsctl: automatic capture failed unexpectedly: ${String(error)}`))
        .finally(() => (this.#running = null));
    } catch (error) {
      process.emitWarning(`opsctl: judging the capture rules failed: ${String(error)}`);
    }
  }

  /** The first rule the sample meets, with the reason as a sentence. */
  #fired(event: LeakEvent): Attempt | null {
    const { rules } = this.#deps.settings;
    const used = event.sample.heapUsed;
    if (rules.heapAboveBytes !== null && used > rules.heapAboveBytes) {
      return { rule: 'heap-above', reason: `Heap used after GC was ${formatBytes(used)}, above the rule's ${formatBytes(rules.heapAboveBytes)}.` };
    }
    if (rules.onLeakSuspected && event.verdict.verdict === 'suspected') {
      return { rule: 'leak-suspected', reason: `The leak verdict is suspected: ${event.verdict.reason}` };
    }
    if (rules.nearHeapLimitRatio !== null) {
      const limit = getHeapStatistics().heap_size_limit;
      if (used >= rules.nearHeapLimitRatio * limit) {
        return {
          rule: 'near-heap-limit',
          reason: `Heap used after GC was ${formatBytes(used)}, ${Math.round((used / limit) * 100)}% of V8's heap limit of ${formatBytes(limit)}.`,
        };
      }
    }
    return null;
  }

  async #attempt({ rule, reason }: Attempt): Promise<void> {
    const started = performance.now();
    const { settings, memoryFactor, memoryLimitBytes } = this.#deps;
    const release = this.#deps.gate.tryEnter();
    if (release === null) return this.#skip(rule, started, 'busy', 'BUSY', 'A heap snapshot was already running.');
    try {
      const stored = await this.store.list();
      const diskBytes = stored.reduce((sum, e) => sum + e.bytes, 0);
      if (stored.length >= settings.maxCount) {
        return this.#skip(
          rule,
          started,
          'max-count',
          'LOW_DISK',
          `${stored.length} ${stored.length === 1 ? 'capture is' : 'captures are'} stored, the maximum; fetch and remove them (opsctl snapshots list).`,
        );
      }
      const estimate = estimateSnapshot(memoryFactor);
      if (diskBytes + estimate.maxFileBytes > settings.maxDiskBytes) {
        return this.#skip(
          rule,
          started,
          'disk-budget',
          'LOW_DISK',
          `The captures take ${formatBytes(diskBytes)} and this one could need ${formatBytes(estimate.maxFileBytes)} while written, over the budget of ${formatBytes(settings.maxDiskBytes)}.`,
        );
      }
      const refusal = await snapshotPreflight({ estimate, limit: readMemoryLimit(memoryLimitBytes), dir: settings.dir, checkMemory: true });
      if (refusal !== null) return this.#skip(rule, started, refusal.kind, PREFLIGHT_CODES[refusal.kind], refusal.message);
      let entry: CapturedSnapshot;
      try {
        entry = await this.store.write(rule, reason, this.#deps.app, estimate.heapUsedBytes, this.#stopping.signal);
      } catch (error) {
        if (this.#stopping.signal.aborted) return;
        const code = (error as NodeJS.ErrnoException).code;
        const message = `Writing the capture into ${settings.dir} failed (${describeFsError(error)}).`;
        // The directory itself went bad: stop trying until the process restarts.
        if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOENT' || code === 'ENOTDIR') {
          this.#disabledReason = `the capture directory ${settings.dir} cannot be written (${describeFsError(error)})`;
        }
        return this.#record(rule, started, 'failed', 'write-failed', message, 'INTERNAL', null);
      }
      this.#record(
        rule,
        started,
        'captured',
        null,
        `Captured ${entry.id} (${formatBytes(entry.bytes)} stored, ${formatBytes(entry.snapshotBytes)} uncompressed; the process paused ${entry.pauseMs} ms).`,
        undefined,
        entry,
      );
    } finally {
      release();
    }
  }

  #disable(reason: string): void {
    this.#disabledReason = reason;
    this.#audit(ERRORS.INTERNAL.status, 'INTERNAL', 0, { outcome: 'disabled', reason: 'dir-unusable', message: `Automatic capture is disabled: ${reason}.` });
  }

  #skip(rule: CaptureRule, started: number, reason: CaptureSkipReason, code: ErrorCode, message: string): void {
    this.#record(rule, started, 'skipped', reason, message, code, null);
  }

  #record(
    rule: CaptureRule,
    started: number,
    outcome: CaptureEvent['outcome'],
    reason: CaptureSkipReason | null,
    message: string,
    code: ErrorCode | undefined,
    entry: CapturedSnapshot | null,
  ): void {
    this.outcomes[outcome]++;
    this.#lastEvent = { time: new Date().toISOString(), rule, outcome, id: entry?.id ?? null, reason, message };
    this.#audit(code === undefined ? 200 : ERRORS[code].status, code, performance.now() - started, {
      outcome,
      rule,
      ...(reason === null ? {} : { reason }),
      message,
      ...(entry === null ? {} : { id: entry.id, bytes: entry.bytes, snapshotBytes: entry.snapshotBytes, pauseMs: entry.pauseMs, sha256: entry.sha256 }),
    });
  }

  #audit(status: number, code: ErrorCode | undefined, durationMs: number, detail: Record<string, unknown>): void {
    this.#deps.audit?.({
      time: new Date().toISOString(),
      kind: 'capture',
      token: null,
      address: 'in-process',
      method: '',
      path: '',
      route: null,
      status,
      ...(code === undefined ? {} : { code }),
      durationMs: Math.round(durationMs),
      detail,
    });
  }
}
