// The leak monitor: the GC sampler always on, the verdict on demand and on each sample,
// and live subscribers told of each sample and of each change of verdict.
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

export class LeakMonitor {
  readonly #sampler: GcSampler;
  readonly #settings: Partial<LeakSettings>;
  readonly #since = Date.now();
  #level: LeakLevel = 'ok';
  readonly #listeners = new Set<(event: LeakEvent) => void>();
  /** Listeners that are live streams (not the endpoint's own, such as automatic capture). */
  #watchers = 0;
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
    this.#watchers = 0;
  }

  /** The verdict now; with `sampleNow`, after forcing a GC sample (at most one per 5 s). */
  status(sampleNow = false): LeakStatus {
    if (sampleNow) this.#sampler.sampleNow();
    const samples = this.#sampler.samples();
    return { verdict: judgeLeak(samples, this.#settings), samples, since: this.#since, watchers: this.#watchers };
  }

  /**
   * Calls `listener` with each sample and each change of verdict. Returns the unsubscribe.
   * `internal` listeners (the endpoint's own, such as automatic capture) are not counted
   * as watchers.
   */
  subscribe(listener: (event: LeakEvent) => void, { internal = false } = {}): () => void {
    // Verdicts are judged only while someone listens; start from the current one.
    if (this.#listeners.size === 0) this.#level = judgeLeak(this.#sampler.samples(), this.#settings).verdict;
    this.#listeners.add(listener);
    if (!internal) this.#watchers++;
    return () => {
      if (this.#listeners.delete(listener) && !internal) this.#watchers--;
    };
  }

  #onSample(sample: MemorySample): void {
    if (this.#listeners.size === 0) return;
    const verdict = judgeLeak(this.#sampler.samples(), this.#settings);
    const changed = verdict.verdict !== this.#level;
    this.#level = verdict.verdict;
    for (const listener of this.#listeners) listener({ type: 'sample', sample, verdict, changed });
  }
}
