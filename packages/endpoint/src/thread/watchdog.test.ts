import { afterEach, describe, expect, it } from 'vitest';
import type { StackFrame } from '../protocol/index.js';
import { mainThreadBlocked } from './blocked.js';
import { MainThreadState } from './main-thread-state.js';
import type { StackTaker } from './stack.js';
import { Watchdog } from './watchdog.js';

const frame = (name: string): StackFrame => ({ function: name, file: '/srv/app.js', line: 1, column: 1 });

let stop: (() => void)[] = [];
afterEach(() => {
  for (const end of stop) end();
  stop = [];
});

/** A watchdog over a main thread that never beats (blocked from the start), whose stacks are `names` in turn. */
function blockedWatchdog(names: string[]): { watchdog: Watchdog; state: MainThreadState; taken: () => number } {
  const state = new MainThreadState();
  let taken = 0;
  const stacks = { take: async () => ({ frames: [frame(names[Math.min(taken++, names.length - 1)] ?? 'none')] }) } as unknown as StackTaker;
  const watchdog = new Watchdog(state, stacks, { thresholdMs: 200, stackIntervalMs: 400 });
  watchdog.start();
  stop.push(() => watchdog.stop());
  return { watchdog, state, taken: () => taken };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Polls until `ready` holds, up to 5 s: a loaded machine runs the watchdog's timer late. */
async function until(ready: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 5_000; !ready() && Date.now() < deadline; ) await sleep(20);
}

describe('Watchdog', () => {
  it('takes the stack of a block soon after it begins', async () => {
    const { watchdog } = blockedWatchdog(['parse']);
    await until(() => watchdog.current()?.stack?.[0] !== undefined);
    expect(watchdog.current()?.stack?.[0]?.function).toBe('parse');
  });

  it('takes it again while a long block lasts, no more often than its interval, keeping the newest', async () => {
    const { watchdog, taken } = blockedWatchdog(['parse', 'render']);
    await sleep(1_100);
    expect(watchdog.current()?.stack?.[0]?.function).toBe('render');
    // Blocked from 0 ms: stacks at ~200, ~600, ~1000 ms at most.
    expect(taken()).toBeLessThanOrEqual(3);
  });

  it('records the block with its latest stack when the loop turns again', async () => {
    const { watchdog, state } = blockedWatchdog(['parse', 'render']);
    await sleep(900);
    const ended = new Promise((resolve) => watchdog.subscribe(resolve));
    stop.push(state.startBeating());
    const block = (await ended) as { durationMs: number; stack: StackFrame[] };
    expect(block.durationMs).toBeGreaterThanOrEqual(800);
    expect(block.stack[0]?.function).toBe('render');
  });

  it("records a heap snapshot past the threshold as the endpoint's, ending when the snapshot does, before the next beat", async () => {
    const { watchdog, state } = blockedWatchdog(['parse']);
    state.snapshotStarting(300);
    await until(() => watchdog.current() !== null);
    expect(watchdog.current()?.cause).toBe('heap-snapshot');
    const ended = new Promise((resolve) => watchdog.subscribe(resolve));
    // No beat follows: the main thread's timer has not turned yet.
    state.snapshotEnded();
    expect(await ended).toMatchObject({ cause: 'heap-snapshot', stack: null, stackNote: 'the endpoint was writing a heap snapshot' });
    // Listed by opsctl blocks, but not counted as the application's in GET /metrics.
    expect(watchdog.recent()).toHaveLength(1);
    expect(watchdog.totals).toEqual({ blocks: 0, blockedSeconds: 0 });
  });
});

describe('mainThreadBlocked', () => {
  it("lets a request through as soon as a heap snapshot has ended, before the main thread's beat timer has turned", async () => {
    const state = new MainThreadState();
    state.snapshotStarting(300);
    await sleep(400);
    expect(mainThreadBlocked(state, null, 200)).toMatchObject({ code: 'MAIN_THREAD_BLOCKED', details: { snapshot: { expectedMs: 300 } } });
    state.snapshotEnded();
    expect(mainThreadBlocked(state, null, 200)).toBeNull();
  });
});
