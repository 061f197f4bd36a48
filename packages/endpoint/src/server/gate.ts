// A concurrency gate for a heavy operation: at most `max` at once; the next caller is
// refused at once (429 + Retry-After), never queued, so a burst cannot pile up work.

export interface GateSettings {
  max: number;
  /** What to tell a refused caller, in seconds: roughly how long one operation takes. */
  retryAfterSeconds: number;
  /** The refusal's sentence, e.g. "A heap snapshot is already running; one at a time." */
  busyMessage: string;
}

export class Gate {
  readonly max: number;
  readonly retryAfterSeconds: number;
  readonly busyMessage: string;
  #active = 0;

  constructor(settings: GateSettings) {
    this.max = settings.max;
    this.retryAfterSeconds = settings.retryAfterSeconds;
    this.busyMessage = settings.busyMessage;
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
