import { describe, expect, it } from 'vitest';
import type { LeakEvent } from '../protocol/leaks.js';
import { awaitsOnlyTheWindow, JUDGED_WINDOW_MS, LeakMonitor, sampleGap } from './leak-monitor.js';
import { DEFAULT_LEAK_SETTINGS, judgeLeak, type JudgedSample } from './leak-verdict.js';

const MB = 1024 * 1024;

/** A sample every 5 s for `seconds`, heap used as `heap(t)`. */
function series(seconds: number, heap: (t: number) => number): JudgedSample[] {
  return Array.from({ length: seconds / 5 }, (_, i) => ({ time: (i + 1) * 5_000, heapUsed: 30 * MB + heap((i + 1) * 5), external: 2 * MB }));
}

describe('sampleGap', () => {
  const gap = sampleGap(DEFAULT_LEAK_SETTINGS);

  it('waits one bucket of the shortest window that can be suspected at first: 7.5 s', () => {
    expect(gap(0)).toBe(7_500);
    expect(gap(60_000)).toBe(7_500);
  });

  it('grows with the record to one bucket of the window judged, 80 s for 20 minutes', () => {
    expect(gap(300_000)).toBe(20_000);
    expect(gap(JUDGED_WINDOW_MS)).toBe(80_000);
    expect(gap(10 * JUDGED_WINDOW_MS)).toBe(80_000);
  });

  it("never goes below the forced GCs' least interval, whatever the settings", () => {
    expect(sampleGap({ ...DEFAULT_LEAK_SETTINGS, minSpanSeconds: 0 })(0)).toBe(5_000);
  });
});

describe('awaitsOnlyTheWindow', () => {
  it('is true for a steady rise held back only by the window being shorter than 90 s', () => {
    const verdict = judgeLeak(
      series(100, (t) => t * MB),
      {},
      { since: 0 },
    );
    expect(verdict.verdict).toBe('growing');
    expect(awaitsOnlyTheWindow(verdict)).toBe(true);
  });

  it('is false once suspected, for a rise that slows down, and without a trend', () => {
    expect(
      awaitsOnlyTheWindow(
        judgeLeak(
          series(200, (t) => t * MB),
          {},
          { since: 0 },
        ),
      ),
    ).toBe(false);
    const slowing = judgeLeak(
      series(100, (t) => 20 * MB * Math.log1p(t / 5)),
      {},
      { since: 0 },
    );
    expect(slowing.series.heapUsed.failed).toContain('slowing-down');
    expect(awaitsOnlyTheWindow(slowing)).toBe(false);
    expect(
      awaitsOnlyTheWindow(
        judgeLeak(
          series(100, () => 0),
          {},
          { since: 0 },
        ),
      ),
    ).toBe(false);
  });
});

describe('LeakMonitor events', () => {
  it("carry the sampler's stats after each sample, so that a watch's GC counts stay current", () => {
    const monitor = new LeakMonitor();
    monitor.start();
    try {
      const events: LeakEvent[] = [];
      const unsubscribe = monitor.subscribe((event) => events.push(event));
      const status = monitor.status(true);
      unsubscribe();
      expect(status.gcRequest?.forced).toBe(true);
      const forced = events.find((event) => event.sample.forced);
      expect(forced?.sampling).toEqual(status.sampling);
      expect(forced?.sampling?.forcedGcs).toBeGreaterThanOrEqual(1);
    } finally {
      monitor.stop();
    }
  });
});
