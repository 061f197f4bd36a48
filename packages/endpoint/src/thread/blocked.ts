// What a request that needs the main thread is told while the main thread cannot answer:
// at once, rather than after its loop frees up, with how long it has been blocked and
// where (the watchdog's stack, in `details`), or that the endpoint is writing a heap snapshot.
import type { MainThreadState } from './main-thread-state.js';
import type { Watchdog } from './watchdog.js';

/** The error to refuse a main-thread request with now (code MAIN_THREAD_BLOCKED, with details), or null when it may go ahead. */
export function mainThreadBlocked(state: MainThreadState, watchdog: Watchdog | null, afterMs: number): Error | null {
  const lagMs = state.sinceLastBeatMs();
  // A snapshot being written blocks the main thread from its first millisecond.
  const snapshot = state.snapshot();
  if (lagMs < afterMs && snapshot === null) return null;
  const current = watchdog?.current() ?? null;
  // Where it is stuck is said only to a caller that may see stacks (server/pipeline.ts).
  const message =
    snapshot !== null
      ? `The application's main thread is writing a heap snapshot (${seconds(snapshot.elapsedMs)} of an expected ${seconds(snapshot.expectedMs)}), and this needs it.`
      : `The application's main thread has been blocked for ${seconds(lagMs)}, and this needs it.`;
  // A snapshot says when it should end; a block cannot be told.
  const retryAfterSeconds = snapshot === null ? 5 : Math.max(1, Math.ceil((snapshot.expectedMs - snapshot.elapsedMs) / 1000));
  return Object.assign(new Error(message), {
    code: 'MAIN_THREAD_BLOCKED',
    retryAfterSeconds,
    details: { blockedForMs: Math.round(lagMs), stack: current?.stack ?? null, snapshot },
  });
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
