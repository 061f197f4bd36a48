// PauseBudget: a token bucket of pause time. Credit accrues at `share` of wall time, up to
// `share × windowMs`, and each pause is paid from it (a pause longer than expected leaves a
// debt that wall time pays back). Times are passed in, in ms on any one monotonic clock.
export class PauseBudget {
  readonly share: number;
  readonly capacityMs: number;
  #creditMs: number;
  #at: number;

  /** Starts full, at time `now`. */
  constructor(share: number, windowMs: number, now: number) {
    if (!(share > 0 && share < 1)) throw new RangeError(`the share of wall time must be between 0 and 1, not ${share}`);
    this.share = share;
    this.capacityMs = share * windowMs;
    this.#creditMs = this.capacityMs;
    this.#at = now;
  }

  /** Pause time available at `now`, in ms (negative while a debt is paid back). */
  creditMs(now: number): number {
    return Math.min(this.capacityMs, this.#creditMs + Math.max(0, now - this.#at) * this.share);
  }

  /** Wall time, in ms from `now`, until a pause of `pauseMs` fits; 0 when it fits now, Infinity when it never will. */
  waitMs(pauseMs: number, now: number): number {
    if (pauseMs > this.capacityMs) return Number.POSITIVE_INFINITY;
    return Math.max(0, (pauseMs - this.creditMs(now)) / this.share);
  }

  /** Pays for a pause that ended at `now`. */
  spend(pauseMs: number, now: number): void {
    this.#creditMs = this.creditMs(now) - pauseMs;
    this.#at = now;
  }
}
