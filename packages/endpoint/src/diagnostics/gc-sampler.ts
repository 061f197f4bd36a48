// GcSampler: one memory sample after every major (mark-sweep-compact) GC, kept in a ring
// buffer for judgeLeak() and pushed to live subscribers. Cheap enough to be always on.
//
// Mechanism: a perf_hooks PerformanceObserver on 'gc' entries. Node queues the entry at
// the end of each GC and calls observers on a later tick, so allocation has happened in
// between; everything allocated since sits in the young generation, so heap used minus
// the young generation gives the post-GC figure (measured within 0.25 MB of V8's own
// after-GC statistics from v8.GCProfiler, Node 20 and 24). External memory is freed by
// the GC itself and read as is. v8.GCProfiler was rejected: it records every scavenge
// (~3 KB each, thousands a minute under load) and hands them over only at stop(), so it
// would have to be rotated and its JSON parsed to learn of a major GC late.
//
// Major GCs alone are too rare to judge by: in 200 s of a node:http app under light load,
// Node 24 leaking 1 MB/s ran 7 (the verdict never had enough samples), and a steady app
// none on Node 20 or 24. So a gap of MAX_SAMPLE_GAP_MS without one is filled with a forced
// GC, within a budget of wall time and a cap on the expected pause.
import { PerformanceObserver, constants, performance, type PerformanceEntry, type PerformanceObserverEntryList } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { guarded, warnOnce } from '../guard.js';
import type { MemorySample } from './leak-verdict.js';

/** At one sample per 5 s, an hour of history, in about 60 KB. */
export const SAMPLE_CAPACITY = 720;
/** sampleNow() forces at most one full GC per this: a flood of requests cannot stall the app. */
export const FORCED_SAMPLE_MIN_INTERVAL_MS = 5_000;
/**
 * With no major GC for this long, force one, so that the verdict's time buckets fill: it
 * cuts its 90 s minimum into 12 buckets of 7.5 s, while Node 24 went ~28 s between major
 * GCs under load, and a steady app minutes.
 */
export const MAX_SAMPLE_GAP_MS = 10_000;
/** Share of wall time gap-filling GCs may take: 0.5%, half the endpoint's 1% throughput goal. */
export const FORCED_GC_BUDGET = 0.005;
/**
 * Gap-filling never forces a GC expected to pause longer: a forced GC is one atomic pause
 * (V8's own are mostly incremental) and shows in the app's tail latency. Heaps too large for
 * it get samples from natural major GCs and sampleNow() only.
 */
export const MAX_FORCED_PAUSE_MS = 100;
/**
 * Pause of a forced full GC per MiB of heap used, until one has been measured here: 7.9-9.8 ms
 * at 9 MB, 40-74 ms at 42 MB, 130-156 ms at 160-180 MB of small objects (Node 20 and 24).
 */
const FORCED_PAUSE_MS_PER_MIB = 1;
const MIB = 1024 * 1024;

// The young generation: where everything allocated since the GC lives.
const YOUNG_SPACES = new Set(['new_space', 'new_large_object_space']);

// @types/node 20 leaves `detail` off PerformanceEntry; gc entries carry it since Node 16.
type GcEntry = PerformanceEntry & { readonly detail?: { readonly kind?: number } | null };

export type SampleListener = (sample: MemorySample) => void;

export interface GcSamplerOptions {
  /** Samples kept; the oldest go first. Default SAMPLE_CAPACITY (720). */
  capacity?: number;
  /** Force a sample after this long without a major GC; null never forces. Default MAX_SAMPLE_GAP_MS (10 s). */
  maxGapMs?: number | null;
  /** Share of wall time gap-filling GCs may take. Default FORCED_GC_BUDGET (0.5%). */
  forcedGcBudget?: number;
  /** Longest pause a gap-filling GC may be expected to take. Default MAX_FORCED_PAUSE_MS (100 ms). */
  maxForcedPauseMs?: number;
}

export class GcSampler {
  readonly capacity: number;
  readonly #maxGapMs: number | null;
  readonly #budget: number;
  readonly #maxPauseMs: number;
  readonly #ring: MemorySample[] = [];
  #next = 0;
  readonly #listeners = new Set<SampleListener>();
  #observer: PerformanceObserver | null = null;
  #gapTimer: NodeJS.Timeout | null = null;
  /** performance.now() bounds of our own forced GC, whose observer entry is then skipped. */
  #forced = { start: -1, end: -1 };
  /** performance.now() of the newest sample, or of start(): older entries are skipped, so samples stay in time order. */
  #newest = Number.NEGATIVE_INFINITY;
  #lastForcedAt = Number.NEGATIVE_INFINITY;
  /** Measured on the last forced GC: its pause over the heap used before it. */
  #pauseMsPerByte = FORCED_PAUSE_MS_PER_MIB / MIB;

  constructor(options: GcSamplerOptions = {}) {
    this.capacity = options.capacity ?? SAMPLE_CAPACITY;
    this.#maxGapMs = options.maxGapMs === undefined ? MAX_SAMPLE_GAP_MS : options.maxGapMs;
    this.#budget = options.forcedGcBudget ?? FORCED_GC_BUDGET;
    this.#maxPauseMs = options.maxForcedPauseMs ?? MAX_FORCED_PAUSE_MS;
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new RangeError(`capacity must be a positive integer, not ${this.capacity}`);
    if (this.#maxGapMs !== null && !(this.#maxGapMs > 0)) throw new RangeError(`maxGapMs must be positive or null, not ${this.#maxGapMs}`);
    if (!(this.#budget > 0 && this.#budget < 1)) throw new RangeError(`forcedGcBudget must be between 0 and 1, not ${this.#budget}`);
    if (!(this.#maxPauseMs > 0)) throw new RangeError(`maxForcedPauseMs must be positive, not ${this.#maxPauseMs}`);
  }

  get running(): boolean {
    return this.#observer !== null;
  }

  /** Starts sampling; does nothing when already started. */
  start(): void {
    if (this.#observer !== null) return;
    this.#newest = Math.max(this.#newest, performance.now());
    this.#observer = new PerformanceObserver(guarded('the leak monitor\'s GC sampling', (list) => this.#onEntries(list)));
    this.#observer.observe({ entryTypes: ['gc'] });
    if (this.#maxGapMs !== null) {
      this.#gapTimer = setTimeout(guarded('the leak monitor\'s gap-filling GC', () => this.#fillGap()), this.#maxGapMs).unref();
    }
  }

  /** Stops sampling and drops every subscriber; the samples stay readable. */
  stop(): void {
    this.#observer?.disconnect();
    this.#observer = null;
    if (this.#gapTimer !== null) clearTimeout(this.#gapTimer);
    this.#gapTimer = null;
    this.#listeners.clear();
  }

  /** The samples kept, oldest first. */
  samples(): MemorySample[] {
    return [...this.#ring.slice(this.#next), ...this.#ring.slice(0, this.#next)];
  }

  /** Calls `listener` with each new sample until unsubscribed or stopped. Returns the unsubscribe. */
  subscribe(listener: SampleListener): () => void {
    this.#listeners.add(listener);
    return () => this.unsubscribe(listener);
  }

  unsubscribe(listener: SampleListener): void {
    this.#listeners.delete(listener);
  }

  /**
   * A post-GC sample now: forces a full GC and records what survives. Within
   * FORCED_SAMPLE_MIN_INTERVAL_MS of the last forced GC, or when the GC is expected to
   * pause longer than maxForcedPauseMs, returns the newest sample instead.
   * Null when GC cannot be forced in this process (then nothing is recorded).
   */
  sampleNow(): MemorySample | null {
    const newest = this.#ring.at(this.#next - 1) ?? null;
    if (performance.now() - this.#lastForcedAt < FORCED_SAMPLE_MIN_INTERVAL_MS) return newest;
    // Any `read` token may ask: never a pause longer than gap-filling would allow.
    if (getHeapStatistics().used_heap_size * this.#pauseMsPerByte > this.#maxPauseMs) return newest;
    return this.#force();
  }

  #force(): MemorySample | null {
    const collect = fullGc();
    if (collect === null) return null;
    const heapBefore = getHeapStatistics().used_heap_size;
    const start = performance.now();
    collect();
    const end = performance.now();
    this.#forced = { start, end };
    this.#lastForcedAt = end;
    if (heapBefore > 0) this.#pauseMsPerByte = (end - start) / heapBefore;
    return this.#record(end);
  }

  #onEntries(list: PerformanceObserverEntryList): void {
    for (const entry of list.getEntries() as GcEntry[]) {
      if (entry.detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
      if (entry.startTime >= this.#forced.start && entry.startTime <= this.#forced.end) continue;
      // Entries reach every observer a tick late: one may predate start() or a forced sample.
      const end = entry.startTime + entry.duration;
      if (end >= this.#newest) this.#record(end);
    }
  }

  /** No major GC for maxGapMs: force one if its expected pause is short and fits the budget. */
  #fillGap(): void {
    const expectedPauseMs = getHeapStatistics().used_heap_size * this.#pauseMsPerByte;
    const sinceForcedMs = performance.now() - this.#lastForcedAt;
    if (expectedPauseMs <= this.#maxPauseMs && expectedPauseMs <= sinceForcedMs * this.#budget) this.#force();
    this.#gapTimer?.refresh();
  }

  /** Records a sample for a GC that ended at `end` (performance.now() time); null when memory cannot be read now. */
  #record(end: number): MemorySample | null {
    let sample: MemorySample;
    try {
      // The monotonic clock, so that a wall-clock step cannot fake a growth rate.
      sample = readSample(performance.timeOrigin + end);
    } catch (error) {
      // process.memoryUsage() throws when the process is out of file descriptors (EMFILE).
      warnOnce('reading memory for a leak-monitor sample', error);
      return null;
    }
    this.#newest = end;
    if (this.#ring.length < this.capacity) {
      this.#ring.push(sample);
    } else {
      this.#ring[this.#next] = sample;
      this.#next = (this.#next + 1) % this.capacity;
    }
    this.#gapTimer?.refresh();
    for (const listener of this.#listeners) {
      try {
        listener(sample);
      } catch (error) {
        // One broken subscriber must neither stop sampling nor reach the application.
        this.#listeners.delete(listener);
        process.emitWarning(`opsctl: a GC sample listener threw and was unsubscribed: ${String(error)}`);
      }
    }
    return sample;
  }
}

/** Heap used after the GC: what is in use now, minus what was allocated since (the young generation). */
function readSample(time: number): MemorySample {
  const usage = process.memoryUsage();
  let young = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (YOUNG_SPACES.has(space.space_name)) young += space.space_used_size;
  }
  return { time, heapUsed: usage.heapUsed - young, external: usage.external, rss: usage.rss };
}

// V8's gc(), found once per process: the global one under --expose-gc, else taken from a
// fresh vm context created while the flag is briefly on (it only decides whether new
// contexts get a `gc` global). undefined: not looked for yet.
let gcFunction: (() => void) | null | undefined;

function fullGc(): (() => void) | null {
  if (gcFunction !== undefined) return gcFunction;
  const global = (globalThis as { gc?: unknown }).gc;
  if (typeof global === 'function') return (gcFunction = global as () => void);
  try {
    setFlagsFromString('--expose-gc');
    const found: unknown = runInNewContext('gc');
    gcFunction = typeof found === 'function' ? (found as () => void) : null;
  } catch {
    gcFunction = null;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  return gcFunction;
}
