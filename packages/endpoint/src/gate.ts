// A concurrency gate for a heavy operation: at most `max` at once; the next caller is
// refused at once (429 + Retry-After), never queued, so a burst cannot pile up work.
// Its count may live in memory shared between threads: the heap-snapshot gate is taken
// by downloads on the endpoint's thread and by automatic capture on the main thread.

export interface GateSettings {
  max: number;
  /** What to tell a refused caller, in seconds: roughly how long one operation takes. */
  retryAfterSeconds: number;
  /** The refusal's sentence, e.g. "A heap snapshot is already running; one at a time."; made when a caller is refused when it is a function. */
  busyMessage: string | (() => string);
  /** A count shared with another thread (sharedGateCount()); a private one by default. */
  count?: Int32Array;
}

/** A count for a gate that two threads share. */
export function sharedGateCount(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
}

export class Gate {
  readonly max: number;
  readonly retryAfterSeconds: number;
  readonly #busyMessage: string | (() => string);
  readonly #count: Int32Array;

  constructor(settings: GateSettings) {
    this.max = settings.max;
    this.retryAfterSeconds = settings.retryAfterSeconds;
    this.#busyMessage = settings.busyMessage;
    this.#count = settings.count ?? new Int32Array(1);
  }

  /** A release function when admitted (call it exactly once), or null when full. */
  tryEnter(): (() => void) | null {
    for (;;) {
      const active = Atomics.load(this.#count, 0);
      if (active >= this.max) return null;
      if (Atomics.compareExchange(this.#count, 0, active, active + 1) === active) break;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      Atomics.sub(this.#count, 0, 1);
    };
  }

  get busyMessage(): string {
    return typeof this.#busyMessage === 'function' ? this.#busyMessage() : this.#busyMessage;
  }

  get active(): number {
    return Atomics.load(this.#count, 0);
  }
}
