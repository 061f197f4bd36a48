// What the endpoint's thread knows of the application's main thread without asking it,
// in memory both threads share: when the main thread's event loop last turned (it stamps
// the time every BEAT_MS from a timer), and whether it is writing a heap snapshot, since
// when and for how long it is expected to pause. A stamp older than a turn or two means
// the loop is blocked; the endpoint's thread reads that even while the main thread cannot
// answer anything.

/** How often the main thread stamps its heartbeat: a timer callback of a few instructions. */
export const BEAT_MS = 100;

const LAST_BEAT = 0;
const SNAPSHOT_STARTED = 1;
const SNAPSHOT_EXPECTED_MS = 2;
const SLOTS = 3;

/** Milliseconds on a clock both threads share (each thread's performance.now() has its own origin). */
export function sharedClock(): number {
  return performance.timeOrigin + performance.now();
}

export class MainThreadState {
  readonly buffer: SharedArrayBuffer;
  readonly #slots: Float64Array;

  constructor(buffer = new SharedArrayBuffer(SLOTS * Float64Array.BYTES_PER_ELEMENT)) {
    this.buffer = buffer;
    this.#slots = new Float64Array(buffer);
    if (this.#slots[LAST_BEAT] === 0) this.#slots[LAST_BEAT] = sharedClock();
  }

  /**
   * On the main thread: stamps the heartbeat now and every BEAT_MS, telling `onDelay` how
   * much later than due each beat came (the event loop's delay); returns the stop.
   */
  startBeating(onDelay: (delayMs: number) => void = () => {}): () => void {
    let last = sharedClock();
    this.#slots[LAST_BEAT] = last;
    const timer = setInterval(() => {
      const now = sharedClock();
      this.#slots[LAST_BEAT] = now;
      onDelay(Math.max(0, now - last - BEAT_MS));
      last = now;
    }, BEAT_MS);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** On the main thread, before a snapshot blocks it. */
  snapshotStarting(expectedMs: number): void {
    this.#slots[SNAPSHOT_EXPECTED_MS] = expectedMs;
    this.#slots[SNAPSHOT_STARTED] = sharedClock();
  }

  /**
   * On the main thread, once V8's write has returned: the thread runs again at this very
   * moment, so it stamps the heartbeat, and does so before the snapshot is cleared. Until
   * the beat timer's next turn the stamp would otherwise be from before the snapshot, and
   * a request arriving then was refused as if the application had been blocked for the
   * whole pause (thread/blocked.ts), and the watchdog's record of the snapshot lasted until
   * that turn.
   */
  snapshotEnded(): void {
    this.#slots[LAST_BEAT] = sharedClock();
    this.#slots[SNAPSHOT_STARTED] = 0;
  }

  /** How long ago the main thread's event loop last turned. */
  sinceLastBeatMs(now = sharedClock()): number {
    return Math.max(0, now - this.#slots[LAST_BEAT]!);
  }

  /** The heap snapshot being written now, if any. */
  snapshot(now = sharedClock()): { elapsedMs: number; expectedMs: number } | null {
    const started = this.#slots[SNAPSHOT_STARTED]!;
    if (started === 0) return null;
    return { elapsedMs: Math.round(now - started), expectedMs: Math.round(this.#slots[SNAPSHOT_EXPECTED_MS]!) };
  }
}
