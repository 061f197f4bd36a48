// The blocked-loop watchdog, on the endpoint's thread: it reads the main thread's
// heartbeat (main-thread-state.ts) every CHECK_MS, and when the beat is older than the
// threshold, records a block: when it began, its stack (taken soon after it is detected,
// and again every STACK_MIN_INTERVAL_MS while it lasts, as a long block can move on to
// other code), and, once the beat resumes, how long it lasted. Blocks are kept in a
// bounded ring, audited, and told to live subscribers.
//
// Stacks are rate-limited: taking one pauses the main thread (stack.ts), and a process
// that blocks constantly must not pay for a pause every second. A block caused by the
// endpoint's own heap snapshot is recorded as such, without a stack.
import { guarded } from '../guard.js';
import type { BlockRecord, StackFrame } from '../protocol/index.js';
import { BEAT_MS, sharedClock, type MainThreadState } from './main-thread-state.js';
import type { StackTaker } from './stack.js';

const CHECK_MS = 100;
/** Blocks kept for `opsctl blocks`. */
const BLOCKS_KEPT = 50;
/** Watchdog stacks are taken at most this often. */
const STACK_MIN_INTERVAL_MS = 10_000;
/** A beat this recent means the event loop turns again. */
const RESUMED_WITHIN_MS = 3 * BEAT_MS;

export interface WatchdogSettings {
  /** A block shorter than this is not one (default 1 s). */
  thresholdMs: number;
  /** Stacks at most this often (default STACK_MIN_INTERVAL_MS). */
  stackIntervalMs?: number;
}

export interface CurrentBlock {
  startedAt: number;
  blockedForMs: number;
  cause: BlockRecord['cause'];
  stack: StackFrame[] | null;
  stackNote: string | null;
  snapshot: { elapsedMs: number; expectedMs: number } | null;
}

interface OpenBlock {
  startedAt: number;
  cause: BlockRecord['cause'];
  stack: StackFrame[] | null;
  stackNote: string | null;
}

export class Watchdog {
  readonly thresholdMs: number;
  readonly #stackIntervalMs: number;
  readonly #state: MainThreadState;
  readonly #stacks: StackTaker;
  readonly #ring: BlockRecord[] = [];
  readonly #listeners = new Set<(block: BlockRecord) => void>();
  #open: OpenBlock | null = null;
  #lastStackAt = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | null = null;
  #nextId = 1;
  /**
   * Blocks by the application's JavaScript that have ended, and their time, since the
   * start: for GET /metrics, whose alert sends the operator to `opsctl stack`. The
   * endpoint's own heap snapshots are listed (cause heap-snapshot) but not counted here:
   * their pauses have their own counter (opsctl_heap_snapshot_pause_seconds).
   */
  readonly totals = { blocks: 0, blockedSeconds: 0 };

  constructor(state: MainThreadState, stacks: StackTaker, settings: WatchdogSettings) {
    this.#state = state;
    this.#stacks = stacks;
    this.thresholdMs = settings.thresholdMs;
    this.#stackIntervalMs = settings.stackIntervalMs ?? STACK_MIN_INTERVAL_MS;
  }

  start(): void {
    this.#timer ??= setInterval(
      guarded('the blocked-loop watchdog', () => this.#check()),
      CHECK_MS,
    );
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#listeners.clear();
  }

  /** The block going on now, if the main thread's loop has been blocked past the threshold. */
  current(): CurrentBlock | null {
    const open = this.#open;
    if (open === null) return null;
    return { ...open, blockedForMs: Math.round(sharedClock() - open.startedAt), snapshot: this.#state.snapshot() };
  }

  /** The blocks that have ended, oldest first. */
  recent(): BlockRecord[] {
    return [...this.#ring];
  }

  /** Calls `listener` with each block as it ends; returns the unsubscribe. */
  subscribe(listener: (block: BlockRecord) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Takes the main thread's stack for `open`; a newer one replaces an older, a failure keeps what was taken. */
  #takeStack(open: OpenBlock, now: number): void {
    this.#lastStackAt = now;
    void this.#stacks.take().then((taken) => {
      if (taken.frames !== null) open.stack = taken.frames;
      else if (open.stack === null) open.stackNote = taken.reason;
    });
  }

  #check(): void {
    const now = sharedClock();
    // The snapshot before the beat, as in blocked.ts: an ended snapshot has stamped the beat.
    const snapshot = this.#state.snapshot(now);
    const sinceBeat = this.#state.sinceLastBeatMs(now);
    if (this.#open === null) {
      if (sinceBeat < this.thresholdMs) return;
      const open: OpenBlock = { startedAt: now - sinceBeat, cause: snapshot === null ? 'javascript' : 'heap-snapshot', stack: null, stackNote: null };
      this.#open = open;
      if (snapshot !== null) open.stackNote = 'the endpoint was writing a heap snapshot';
      else if (now - this.#lastStackAt < this.#stackIntervalMs)
        open.stackNote = `not taken: the watchdog takes at most one stack per ${this.#stackIntervalMs / 1000} s`;
      else this.#takeStack(open, now);
      return;
    }
    if (sinceBeat > RESUMED_WITHIN_MS) {
      if (this.#open.cause === 'javascript' && now - this.#lastStackAt >= this.#stackIntervalMs) this.#takeStack(this.#open, now);
      return;
    }
    const open = this.#open;
    this.#open = null;
    const block: BlockRecord = {
      id: this.#nextId++,
      startedAt: new Date(open.startedAt).toISOString(),
      durationMs: Math.round(now - sinceBeat - open.startedAt),
      cause: open.cause,
      stack: open.stack,
      stackNote: open.stack === null ? (open.stackNote ?? 'the block ended before its stack could be taken') : null,
    };
    this.#ring.push(block);
    if (this.#ring.length > BLOCKS_KEPT) this.#ring.shift();
    if (block.cause !== 'heap-snapshot') {
      this.totals.blocks++;
      this.totals.blockedSeconds += block.durationMs / 1000;
    }
    for (const listener of this.#listeners) {
      try {
        listener(block);
      } catch {
        this.#listeners.delete(listener);
      }
    }
  }
}
