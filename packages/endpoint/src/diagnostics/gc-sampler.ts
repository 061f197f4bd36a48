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
// none on Node 20 or 24. So a gap without one is filled with a forced GC, within the
// limits ForcedGc keeps (a pause cap, a share of wall time, a least interval). The gap may
// grow with the record's age (the leak monitor makes it one time bucket of the verdict).
import { PerformanceObserver, constants, performance, type PerformanceEntry, type PerformanceObserverEntryList } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { guarded } from '../guard.js';
import type { ForcedGcRefusal, MemorySample, SamplerStats } from '../protocol/leaks.js';
import { ForcedGc } from './forced-gc.js';

/** At one sample per 5 s, an hour of history, in about 60 KB. */
export const SAMPLE_CAPACITY = 720;
/**
 * With no major GC for this long, force one, so that the verdict's time buckets fill: it
 * cuts its 90 s minimum into 12 buckets of 7.5 s, while Node 24 went 40-80 s between major
 * GCs under load, and a steady app minutes. The default gap; the leak monitor's grows.
 */
const MAX_SAMPLE_GAP_MS = 10_000;

// The young generation: where everything allocated since the GC lives.
const YOUNG_SPACES = new Set(['new_space', 'new_large_object_space']);

// @types/node 20 leaves `detail` off PerformanceEntry; gc entries carry it since Node 16.
type GcEntry = PerformanceEntry & { readonly detail?: { readonly kind?: number } | null };

export type SampleListener = (sample: MemorySample) => void;

/** Longest gap between samples, given how long the sampler has run (ms). */
export type GapPolicy = (runningMs: number) => number;

export interface GcSamplerOptions {
  /** Samples kept; the oldest go first. Default SAMPLE_CAPACITY (720). */
  capacity?: number;
  /** Force a sample after this long without a major GC; null never forces. Default MAX_SAMPLE_GAP_MS (10 s). */
  maxGapMs?: number | GapPolicy | null;
  /** Share of wall time forced GCs may take. Default FORCED_GC_BUDGET (0.5%). */
  forcedGcBudget?: number;
  /** Longest pause a forced GC may be expected to take. Default MAX_FORCED_PAUSE_MS (500 ms). */
  maxForcedPauseMs?: number;
}

/** A sample asked for: the newest one after the attempt, and why no GC was forced, if none was. */
export interface SampleNowResult {
  sample: MemorySample | null;
  refusal: ForcedGcRefusal | null;
}

export class GcSampler {
  readonly capacity: number;
  readonly #gap: GapPolicy | null;
  readonly #forcedGc: ForcedGc;
  readonly #ring: MemorySample[] = [];
  #next = 0;
  readonly #listeners = new Set<SampleListener>();
  #observer: PerformanceObserver | null = null;
  #gapTimer: NodeJS.Timeout | null = null;
  /** performance.now() bounds of our own forced GC, whose observer entry is then skipped. */
  #forced = { start: -1, end: -1 };
  /** performance.now() of the newest sample, or of start(): older entries are skipped, so samples stay in time order. */
  #newest = Number.NEGATIVE_INFINITY;
  #startedAt = 0;
  #naturalGcs = 0;
  #naturalPauseMs = 0;
  #lastRefusal: ForcedGcRefusal | null = null;

  constructor(options: GcSamplerOptions = {}) {
    this.capacity = options.capacity ?? SAMPLE_CAPACITY;
    const maxGapMs = options.maxGapMs === undefined ? MAX_SAMPLE_GAP_MS : options.maxGapMs;
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new RangeError(`capacity must be a positive integer, not ${this.capacity}`);
    if (typeof maxGapMs === 'number' && !(maxGapMs > 0)) throw new RangeError(`maxGapMs must be positive or null, not ${maxGapMs}`);
    this.#gap = typeof maxGapMs === 'number' ? () => maxGapMs : maxGapMs;
    this.#forcedGc = new ForcedGc({ budget: options.forcedGcBudget, maxPauseMs: options.maxForcedPauseMs });
  }

  get running(): boolean {
    return this.#observer !== null;
  }

  /** Starts sampling; does nothing when already started. */
  start(): void {
    if (this.#observer !== null) return;
    this.#startedAt = performance.now();
    this.#newest = Math.max(this.#newest, this.#startedAt);
    this.#observer = new PerformanceObserver(guarded("the leak monitor's GC sampling", (list) => this.#onEntries(list)));
    this.#observer.observe({ entryTypes: ['gc'] });
    this.#armGapTimer(this.#gapMs());
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
   * A post-GC sample now: forces a full GC and records what survives, within the same limits
   * as gap-filling (any `read` token may ask). When refused, the newest sample and why.
   */
  sampleNow(): SampleNowResult {
    const refusal = this.#force();
    return { sample: this.#ring.at(this.#next - 1) ?? null, refusal };
  }

  stats(): SamplerStats {
    return {
      naturalGcs: this.#naturalGcs,
      naturalPauseMs: Math.round(this.#naturalPauseMs),
      forcedGcs: this.#forcedGc.count,
      forcedPauseMs: Math.round(this.#forcedGc.totalPauseMs),
      maxGapMs: this.#gap === null ? null : Math.round(this.#gapMs()),
      lastRefusal: this.#lastRefusal,
    };
  }

  /** Forces a GC and records a sample, if ForcedGc allows one; else returns why not. */
  #force(): ForcedGcRefusal | null {
    const outcome = this.#forcedGc.attempt();
    this.#lastRefusal = outcome.ran ? null : outcome.refusal;
    if (!outcome.ran) return outcome.refusal;
    this.#forced = { start: outcome.start, end: outcome.end };
    this.#record(outcome.end, true);
    return null;
  }

  #onEntries(list: PerformanceObserverEntryList): void {
    for (const entry of list.getEntries() as GcEntry[]) {
      if (entry.detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
      if (entry.startTime >= this.#forced.start && entry.startTime <= this.#forced.end) continue;
      // Entries reach every observer a tick late: one may predate start() or a forced sample.
      const end = entry.startTime + entry.duration;
      if (end >= this.#newest) {
        this.#naturalGcs++;
        this.#naturalPauseMs += entry.duration;
        this.#record(end, false);
      }
    }
  }

  /** No major GC for the gap: force one if ForcedGc allows; if not, try again when it says one may fit. */
  #fillGap(): void {
    const refusal = this.#force();
    if (refusal === null) return; // #record() armed the timer
    const retryInMs = refusal.retryAt === null ? Number.POSITIVE_INFINITY : refusal.retryAt - (performance.timeOrigin + performance.now());
    this.#armGapTimer(Math.max(1, Math.min(retryInMs, this.#gapMs())));
  }

  #gapMs(): number {
    return this.#gap === null ? Number.POSITIVE_INFINITY : this.#gap(performance.now() - this.#startedAt);
  }

  #armGapTimer(delayMs: number): void {
    if (this.#gapTimer !== null) clearTimeout(this.#gapTimer);
    this.#gapTimer =
      Number.isFinite(delayMs) && this.#observer !== null
        ? setTimeout(
            guarded("the leak monitor's gap-filling GC", () => this.#fillGap()),
            delayMs,
          ).unref()
        : null;
  }

  /** Records a sample for a GC that ended at `end` (performance.now() time). */
  #record(end: number, forced: boolean): MemorySample {
    // The monotonic clock, so that a wall-clock step cannot fake a growth rate.
    const sample = readSample(performance.timeOrigin + end, forced);
    this.#newest = end;
    if (this.#ring.length < this.capacity) {
      this.#ring.push(sample);
    } else {
      this.#ring[this.#next] = sample;
      this.#next = (this.#next + 1) % this.capacity;
    }
    for (const listener of this.#listeners) {
      try {
        listener(sample);
      } catch (error) {
        // One broken subscriber must neither stop sampling nor reach the application.
        this.#listeners.delete(listener);
        process.emitWarning(`opsctl: a GC sample listener threw and was unsubscribed: ${String(error)}`);
      }
    }
    // After the listeners: the gap policy may depend on what they made of this sample.
    this.#armGapTimer(this.#gapMs());
    return sample;
  }
}

/**
 * Heap used after the GC: what is in use now, minus what was allocated since (the young
 * generation). From V8's statistics, not process.memoryUsage(), which throws (EMFILE) when
 * the process runs out of descriptors: from a GC observer or a timer, that would end the app.
 */
function readSample(time: number, forced: boolean): MemorySample {
  const heap = getHeapStatistics();
  let young = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (YOUNG_SPACES.has(space.space_name)) young += space.space_used_size;
  }
  return { time, heapUsed: heap.used_heap_size - young, external: heap.external_memory, rss: residentSetSize(), forced };
}

/** RSS in bytes; 0 when the system cannot tell (rss is shown, never judged). */
function residentSetSize(): number {
  try {
    return process.memoryUsage.rss();
  } catch {
    return 0;
  }
}
