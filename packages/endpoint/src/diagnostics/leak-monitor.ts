// The leak monitor: the GC sampler always on, the verdict on demand and on each sample,
// and live subscribers told of each sample and of each change of verdict.
import { performance } from 'node:perf_hooks';
import type { LeakEvent, LeakLevel, LeakSettings, LeakStatus, LeakVerdict, MemorySample } from '../protocol/leaks.js';
import { FORCED_GC_MIN_INTERVAL_MS } from './forced-gc.js';
import { GcSampler } from './gc-sampler.js';
import { judgeLeak, leakSettings } from './leak-verdict.js';

/**
 * The verdict reads the last 20 minutes of samples: over the whole hour kept, a leak
 * that starts after a long flat stretch would be held back by the "both halves rise"
 * test for as long again. 20 minutes still hold the 90 s minimum many times over.
 */
export const JUDGED_WINDOW_MS = 20 * 60_000;

export class LeakMonitor {
  readonly #sampler: GcSampler;
  readonly #settings: Partial<LeakSettings>;
  // The samples' clock (monotonic, as epoch milliseconds), so that the two compare.
  readonly #since = performance.timeOrigin + performance.now();
  #level: LeakLevel = 'unknown';
  /** When a sample could turn a `growing` verdict into `suspected` (the samples' clock); null when none is awaited. */
  #confirmAt: number | null = null;
  /** Each listener, and whether it is the endpoint's own (automatic capture) rather than a live stream. */
  readonly #listeners = new Map<(event: LeakEvent) => void, boolean>();
  #unsubscribe: (() => void) | null = null;

  constructor({ settings = {}, samples, maxForcedPauseMs }: { settings?: Partial<LeakSettings>; samples?: number; maxForcedPauseMs?: number } = {}) {
    this.#settings = settings;
    const bucketGap = sampleGap(leakSettings(settings));
    this.#sampler = new GcSampler({ capacity: samples, maxGapMs: (runningMs) => this.#gapMs(bucketGap(runningMs)), maxForcedPauseMs });
  }

  start(): void {
    this.#sampler.start();
    this.#unsubscribe = this.#sampler.subscribe((sample) => this.#onSample(sample));
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#sampler.stop();
    this.#listeners.clear();
  }

  /** The verdict now; with `sampleNow`, after forcing a GC sample if the sampler's limits allow one. */
  status(sampleNow = false): LeakStatus {
    const asked = sampleNow ? this.#sampler.sampleNow() : null;
    const samples = this.#sampler.samples();
    const watchers = [...this.#listeners.values()].filter((internal) => !internal).length;
    const status: LeakStatus = {
      verdict: this.#judge(samples),
      samples,
      since: this.#since,
      time: performance.timeOrigin + performance.now(),
      watchers,
      sampling: this.#sampler.stats(),
    };
    if (asked !== null) status.gcRequest = { forced: asked.refusal === null, refusal: asked.refusal };
    return status;
  }

  /**
   * Calls `listener` with each sample and each change of verdict. Returns the unsubscribe.
   * `internal` listeners (the endpoint's own, such as automatic capture) are not counted
   * as watchers.
   */
  subscribe(listener: (event: LeakEvent) => void, { internal = false } = {}): () => void {
    // Verdicts are judged only while someone listens; start from the current one.
    if (this.#listeners.size === 0) this.#level = this.#judge(this.#sampler.samples()).verdict;
    this.#listeners.set(listener, internal);
    return () => this.#listeners.delete(listener);
  }

  #onSample(sample: MemorySample): void {
    const verdict = this.#judge(this.#sampler.samples());
    this.#confirmAt = awaitsOnlyTheWindow(verdict) ? verdict.suspectPossibleAt : null;
    if (this.#listeners.size === 0) return;
    const changed = verdict.verdict !== this.#level;
    this.#level = verdict.verdict;
    const sampling = this.#sampler.stats();
    for (const listener of this.#listeners.keys()) {
      try {
        listener({ type: 'sample', sample, verdict, changed, sampling });
      } catch (error) {
        // One broken listener must not silence the others, nor reach the application.
        this.#listeners.delete(listener);
        process.emitWarning(`opsctl: a leak listener threw and was unsubscribed: ${String(error)}`);
      }
    }
  }

  /**
   * The sampler's gap: a time bucket; but while a trend held back by nothing but the window's
   * span awaits the first moment the window can reach it, half the time left until then, and
   * a sample at that moment (the sampler's limits still apply). The window's later half still
   * gets its points, and the budget is kept for the sample that can confirm: sampling every
   * bucket, a 1 MB/s leak spent it all by 100 s and that sample was refused.
   */
  #gapMs(bucketGapMs: number): number {
    const untilConfirmMs = this.#confirmAt === null ? Number.POSITIVE_INFINITY : this.#confirmAt - (performance.timeOrigin + performance.now());
    // Once that moment has passed without a sample, the usual gap again: never a busy loop.
    if (!(untilConfirmMs > 0 && Number.isFinite(untilConfirmMs))) return bucketGapMs;
    return Math.min(untilConfirmMs, Math.max(bucketGapMs, untilConfirmMs / 2));
  }

  #judge(samples: readonly MemorySample[]): LeakVerdict {
    const newest = samples.at(-1)?.time ?? 0;
    const since = Math.max(this.#since, newest - JUDGED_WINDOW_MS);
    return judgeLeak(
      samples.filter((s) => s.time >= since),
      this.#settings,
      { since },
    );
  }
}

/** Whether a `growing` verdict is held back by the window's span alone. */
export function awaitsOnlyTheWindow(verdict: LeakVerdict): boolean {
  if (verdict.verdict !== 'growing') return false;
  return Object.values(verdict.series).some((s) => s.level === 'growing' && s.failed.length === 1 && s.failed[0] === 'window-too-short');
}

/**
 * How long the sampler waits for V8's own major GC before forcing one: one of the verdict's
 * time buckets of the window judged now, and at least one of the shortest window that can
 * be `suspected` (90 s / 12 = 7.5 s). Every bucket then gets a sample: the 6 a verdict needs
 * are there by about 60 s (at 10 s, not before 70 s); and a steady app whose record has grown
 * to 20 minutes is forced one GC per 80 s rather than one per few seconds for ever.
 */
export function sampleGap(settings: LeakSettings): (runningMs: number) => number {
  // Never below the forced GCs' own least interval, whatever the settings.
  const shortestMs = Math.max(FORCED_GC_MIN_INTERVAL_MS, (settings.minSpanSeconds * 1000) / settings.buckets);
  return (runningMs) => Math.max(shortestMs, (Math.min(runningMs, JUDGED_WINDOW_MS) * (1 - settings.warmupFraction)) / settings.buckets);
}
