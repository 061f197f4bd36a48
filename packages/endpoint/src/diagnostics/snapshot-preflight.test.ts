import { describe, expect, it } from 'vitest';
import { SnapshotPacing } from './snapshot-preflight.js';

describe('SnapshotPacing', () => {
  it('lets the next snapshot start once as long has passed since the last pause ended as that pause lasted', () => {
    let now = 10_000;
    const pacing = new SnapshotPacing(() => now);
    expect(pacing.refusal('')).toBeNull();
    pacing.ended('', 2_100, 'the application');
    now += 200;
    expect(pacing.refusal('')).toEqual({
      message: 'The previous heap snapshot paused the application for 2.1 s; the next may start in 1.9 s.',
      retryInMs: 1_900,
      previousPauseMs: 2_100,
    });
    now += 1_899;
    expect(pacing.refusal('')?.retryInMs).toBe(1);
    now += 1;
    expect(pacing.refusal('')).toBeNull();
  });

  it("paces each thread on its own, naming the worker thread a worker's snapshot paused", () => {
    let now = 0;
    const pacing = new SnapshotPacing(() => now);
    pacing.ended('indexer', 500, 'the worker thread "indexer"');
    now += 100;
    expect(pacing.refusal('indexer')?.message).toBe('The previous heap snapshot paused the worker thread "indexer" for 0.5 s; the next may start in 0.4 s.');
    expect(pacing.refusal('')).toBeNull();
  });
});
