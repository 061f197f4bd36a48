// The leak monitor: the GC sampler always on, the verdict on demand and on each sample,
// and live subscribers told of each sample and of each change of verdict.
import { performance } from 'node:perf_hooks';
import { GcSampler } from './gc-sampler.js';
import { judgeLeak, type LeakLevel, type LeakSettings, type LeakVerdict, type MemorySample } from './leak-verdict.js';

export interface LeakStatus {
  verdict: LeakVerdict;
  /** Post-GC samples kept, oldest first. */
  samples: MemorySample[];
  /** When monitoring began (ms since the epoch). */
  since: number;
  /** Live streams open now. */
  watchers: number;
}

/** A sample with the verdict after it; `changed` when the verdict's level moved. */
export interface LeakEvent {
  type: 'sample';
  sample: MemorySample;
  verdict: LeakVerdict;
  changed: boolean;
}

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
  #level: LeakLevel = 'ok';
  /** Each listener, and whether it is the endpoint's own (automatic capture) rather than a live stream. */
  readonly #listeners = new Map<(event: LeakEvent) => void, boolean>();
  #unsubscribe: (() => void) | null = null;

  constructor(settings: Partial<LeakSettings>, capacity: number) {
    this.#settings = settings;
    this.#sampler = new GcSampler({ capacity });
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

  /** The verdict now; with `sampleNow`, after forcing a GC sample (at most one per 5 s). */
  status(sampleNow = false): LeakStatus {
    if (sampleNow) this.#sampler.sampleNow();
    const samples = this.#sampler.samples();
    const watchers = [...this.#listeners.values()].filter((internal) => !internal).length;
    return { verdict: this.#judge(samples), samples, since: this.#since, watchers };
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
    if (this.#listeners.size === 0) return;
    const verdict = this.#judge(this.#sampler.samples());
    const changed = verdict.verdict !== this.#level;
    this.#level = verdict.verdict;
    for (const listener of this.#listeners.keys()) {
      try {
        listener({ type: 'sample', sample, verdict, changed });
      } catch (error) {
        // One broken listener must not silence the others, nor reach the application.
        this.#listeners.delete(listener);
        process.emitWarning(`opsctl: a leak listener threw and was unsubscribed: ${String(error)}`);
      }
    }
  }

  #judge(samples: readonly MemorySample[]): LeakVerdict {
    const newest = samples.at(-1)?.time ?? 0;
    return judgeLeak(samples.filter((s) => s.time >= newest - JUDGED_WINDOW_MS), this.#settings);
  }
}
