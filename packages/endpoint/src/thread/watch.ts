// What the endpoint's thread watches the main thread with: its heartbeat and snapshot
// flags, the blocked-loop watchdog, and the stack taker. Routes read it; null when mounted.
import type { MainThreadState } from './main-thread-state.js';
import type { StackTaker } from './stack.js';
import type { Watchdog } from './watchdog.js';

export interface ThreadWatch {
  state: MainThreadState;
  /** null when the application turned the watchdog off: stacks can still be taken. */
  watchdog: Watchdog | null;
  stacks: StackTaker;
}
