// ForcedGc: a full GC forced to take a memory sample, within limits that keep it from
// harming the application: a least interval between two, a cap on the expected pause,
// and a budget, a share of wall time. A forced full GC is one atomic pause (V8's own
// major GCs are mostly incremental) of 1.2-2.7 ms per MiB of heap on a loaded 2-core
// machine (docs/leak-detection.md).
//
// The budget is a token bucket (PauseBudget): credit accrues at the budget's share of wall
// time, up to BUDGET_WINDOW_MS worth, and each forced GC spends its measured pause. A rule
// of "this pause must fit the share of the time since the last forced GC", as before,
// threw away what a short pause left unspent; and a refusal now says when the pause fits,
// where the gap timer used to try again a whole gap later (a 52 ms pause, refused at 10 s
// with 50 ms of budget, waited until 20 s).
import { performance } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ForcedGcRefusal } from '../protocol/leaks.js';
import { PauseBudget } from './pause-budget.js';

/** At most one forced GC per this, whoever asks: a flood of requests cannot stall the app. */
export const FORCED_GC_MIN_INTERVAL_MS = 5_000;
/** Share of wall time forced GCs may take: 0.5%, half the endpoint's 1% throughput goal. */
const FORCED_GC_BUDGET = 0.005;
/**
 * Credit accrues over at most this long, 1.5 s at 0.5%: an app running for hours cannot bank
 * a burst of pauses, and a young one can afford the samples a first verdict needs. With 600 ms
 * (two minutes), a 1 MB/s leak spent it by 80 s and got no sample when the window first
 * reached 90 s (docs/leak-detection.md). In any interval, at most 1.5 s plus 0.5% of it:
 * 1.75% of the first two minutes, 1% of any five, 0.5% over hours.
 */
const BUDGET_WINDOW_MS = 300_000;
/**
 * Never force a GC expected to pause longer. 100 ms, as before, refused every forced GC once
 * the heap passed ~40-80 MB: within a minute for a 1 MB/s leak, and for most real apps, which
 * then got no verdict. 500 ms is no longer than V8's own major GCs paused the same leaking app
 * (400-500 ms on Node 20), and the budget spaces such pauses at least 100 s apart.
 */
export const MAX_FORCED_PAUSE_MS = 500;
/** Pause per MiB of heap used until one has been measured here: 1.2-2.7 ms measured under load. */
const DEFAULT_PAUSE_MS_PER_MIB = 2;
/** Measured pauses the estimate is the median of: one slow GC (a busy moment) must not stop all later ones. */
const PAUSE_RATES_KEPT = 5;
const MIB = 1024 * 1024;

/** A forced GC that ran (its bounds, performance.now() times), or why none did. */
export type ForcedGcOutcome = { ran: true; start: number; end: number } | { ran: false; refusal: ForcedGcRefusal };

export interface ForcedGcLimits {
  /** Share of wall time, above 0 and below 1. Default FORCED_GC_BUDGET (0.5%). */
  budget?: number;
  /** Longest expected pause, ms; 0 never forces one. Default MAX_FORCED_PAUSE_MS (500). */
  maxPauseMs?: number;
}

export class ForcedGc {
  readonly #budget: PauseBudget;
  readonly #maxPauseMs: number;
  #lastAt = Number.NEGATIVE_INFINITY;
  /** Measured pauses per byte of heap used before them, newest last. */
  readonly #rates: number[] = [];
  /** Forced GCs so far and their total pause. */
  count = 0;
  totalPauseMs = 0;

  constructor(limits: ForcedGcLimits = {}) {
    this.#budget = new PauseBudget(limits.budget ?? FORCED_GC_BUDGET, BUDGET_WINDOW_MS, performance.now());
    this.#maxPauseMs = limits.maxPauseMs ?? MAX_FORCED_PAUSE_MS;
    if (!(this.#maxPauseMs >= 0)) throw new RangeError(`maxForcedPauseMs must be 0 (never) or more, not ${this.#maxPauseMs}`);
  }

  /** Forces a full GC now if the limits allow one, and accounts for its pause. */
  attempt(): ForcedGcOutcome {
    const refusal = this.#refusal(performance.now());
    return refusal === null ? this.#run() : { ran: false, refusal };
  }

  #refusal(now: number): ForcedGcRefusal | null {
    if (fullGc() === null) return { code: 'GC_UNAVAILABLE', message: 'this process cannot force a GC', expectedPauseMs: null, retryAt: null };
    const expectedPauseMs = Math.round(this.#expectedPauseMs());
    if (now - this.#lastAt < FORCED_GC_MIN_INTERVAL_MS) {
      const seconds = ((now - this.#lastAt) / 1000).toFixed(1);
      return {
        code: 'GC_TOO_SOON',
        message: `a GC was forced ${seconds} s ago, and at most one is forced per ${FORCED_GC_MIN_INTERVAL_MS / 1000} s`,
        expectedPauseMs,
        retryAt: epoch(this.#lastAt + FORCED_GC_MIN_INTERVAL_MS),
      };
    }
    const limit = Math.min(this.#maxPauseMs, this.#budget.capacityMs);
    if (expectedPauseMs > limit) {
      return {
        code: 'GC_PAUSE_TOO_LONG',
        message: `a forced GC of this heap would pause the application for about ${expectedPauseMs} ms, and the limit is ${Math.round(limit)} ms; samples come from V8's own GCs`,
        expectedPauseMs,
        retryAt: null,
      };
    }
    const waitMs = this.#budget.waitMs(expectedPauseMs, now);
    if (waitMs > 0) {
      return {
        code: 'GC_BUDGET_SPENT',
        message: `forced GCs have used their ${this.#budget.share * 100}% share of wall time; a ${expectedPauseMs} ms pause fits again in ${Math.ceil(waitMs / 1000)} s`,
        expectedPauseMs,
        retryAt: epoch(now + waitMs),
      };
    }
    return null;
  }

  /** The pause a forced GC would take now, in ms: heap used times the median measured pause per byte. */
  #expectedPauseMs(): number {
    const sorted = [...this.#rates].sort((a, b) => a - b);
    const rate = sorted.length === 0 ? DEFAULT_PAUSE_MS_PER_MIB / MIB : (sorted[sorted.length >> 1] as number);
    return getHeapStatistics().used_heap_size * rate;
  }

  #run(): ForcedGcOutcome {
    const collect = fullGc() as () => void;
    const heapBefore = getHeapStatistics().used_heap_size;
    const start = performance.now();
    collect();
    const end = performance.now();
    const pauseMs = end - start;
    this.#budget.spend(pauseMs, end);
    this.#lastAt = end;
    this.count++;
    this.totalPauseMs += pauseMs;
    if (heapBefore > 0) {
      this.#rates.push(pauseMs / heapBefore);
      if (this.#rates.length > PAUSE_RATES_KEPT) this.#rates.shift();
    }
    return { ran: true, start, end };
  }
}

/** A performance.now() time as ms since the epoch, the samples' clock. */
function epoch(now: number): number {
  return Math.round(performance.timeOrigin + now);
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
