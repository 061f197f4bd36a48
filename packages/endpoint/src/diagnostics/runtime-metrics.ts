// What the main thread measures for GET /metrics, kept cheap: GC pauses by kind (a
// PerformanceObserver on 'gc' entries, counted as they come), the event loop's delay
// (from the endpoint's own heartbeat timer, which fires every 100 ms anyway: how late it
// fired is the delay, so no second timer), and counts of the endpoint's heavy operations.
// A scrape reads them; nothing here waits on anything.
import { PerformanceObserver, constants, createHistogram, type PerformanceEntry, type RecordableHistogram } from 'node:perf_hooks';
import { guarded } from '../guard.js';

/** Delay quantiles describe the last full window of this long (the one being filled, until there is one). */
const DELAY_WINDOW_MS = 60_000;

const GC_KINDS = ['minor', 'major', 'incremental', 'weakcb'] as const;
export type GcKind = (typeof GC_KINDS)[number];

const KIND_OF: Readonly<Record<number, GcKind>> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

type GcEntry = PerformanceEntry & { readonly detail?: { readonly kind?: number } | null };

export interface EventLoopDelay {
  p50Seconds: number;
  p99Seconds: number;
  maxSeconds: number;
  /** Seconds the quantiles cover. */
  windowSeconds: number;
}

export class RuntimeMetrics {
  readonly gc: Record<GcKind, { collections: number; pauseSeconds: number }> = {
    minor: { collections: 0, pauseSeconds: 0 },
    major: { collections: 0, pauseSeconds: 0 },
    incremental: { collections: 0, pauseSeconds: 0 },
    weakcb: { collections: 0, pauseSeconds: 0 },
  };
  readonly heapSnapshots = { count: 0, pauseSeconds: 0 };
  readonly profiles = { cpu: 0, heap: 0 };
  #observer: PerformanceObserver | null = null;
  #current: RecordableHistogram = createHistogram();
  #previous: RecordableHistogram | null = null;
  #windowStart = performance.now();

  start(): void {
    if (this.#observer !== null) return;
    this.#observer = new PerformanceObserver(
      guarded('counting GC pauses', (list) => {
        for (const entry of list.getEntries() as GcEntry[]) {
          const kind = KIND_OF[entry.detail?.kind ?? -1];
          if (kind === undefined) continue;
          this.gc[kind].collections++;
          this.gc[kind].pauseSeconds += entry.duration / 1000;
        }
      }),
    );
    this.#observer.observe({ entryTypes: ['gc'] });
  }

  stop(): void {
    this.#observer?.disconnect();
    this.#observer = null;
  }

  /** One heartbeat's delay: how much later than due the timer fired. */
  recordDelay(delayMs: number): void {
    const now = performance.now();
    if (now - this.#windowStart >= DELAY_WINDOW_MS) {
      this.#previous = this.#current;
      this.#current = createHistogram();
      this.#windowStart = now;
    }
    // Histograms hold integers: nanoseconds, at least 1.
    this.#current.record(Math.max(1, Math.round(delayMs * 1e6)));
  }

  eventLoopDelay(): EventLoopDelay | null {
    const window = this.#previous ?? this.#current;
    if (window.count === 0) return null;
    return {
      p50Seconds: window.percentile(50) / 1e9,
      p99Seconds: window.percentile(99) / 1e9,
      maxSeconds: window.max / 1e9,
      windowSeconds: this.#previous === null ? (performance.now() - this.#windowStart) / 1000 : DELAY_WINDOW_MS / 1000,
    };
  }
}
