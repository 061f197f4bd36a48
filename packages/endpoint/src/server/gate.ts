// A concurrency gate for a heavy operation: at most `max` at once; the next caller is
// refused at once (429 + Retry-After), never queued, so a burst cannot pile up work.

export class Gate {
  readonly name: string;
  readonly max: number;
  /** What to tell a refused caller, in seconds: roughly how long one operation takes. */
  readonly retryAfterSeconds: number;
  #active = 0;

  constructor(name: string, max: number, retryAfterSeconds: number) {
    this.name = name;
    this.max = max;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** A release function when admitted (call it exactly once), or null when full. */
  tryEnter(): (() => void) | null {
    if (this.#active >= this.max) return null;
    this.#active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#active--;
    };
  }

  get active(): number {
    return this.#active;
  }
}
