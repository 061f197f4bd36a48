import { setImmediate as nextTurn } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MemorySample } from '../protocol/leaks.js';
import { FORCED_GC_MIN_INTERVAL_MS } from './forced-gc.js';
import { GcSampler, SAMPLE_CAPACITY } from './gc-sampler.js';

const MB = 1024 * 1024;

/** A full GC the sampler did not ask for, as the application (or V8) might run one. */
const gc: () => void = (() => {
  setFlagsFromString('--expose-gc');
  const found = runInNewContext('gc') as () => void;
  setFlagsFromString('--no-expose-gc');
  return found;
})();

/** Lets the GC observer's deferred callback run, until `done()` or a bounded number of turns. */
async function settle(done: () => boolean = () => false, turns = 20): Promise<void> {
  for (let i = 0; i < turns && !done(); i++) await nextTurn();
}

const samplers: GcSampler[] = [];
function sampler(...args: ConstructorParameters<typeof GcSampler>): GcSampler {
  const created = new GcSampler(...args);
  samplers.push(created);
  return created;
}

afterEach(() => {
  for (const s of samplers.splice(0)) s.stop();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('GcSampler', () => {
  it('records heap used, external memory and rss after a major GC it did not start', async () => {
    const s = sampler({ maxGapMs: null });
    s.start();
    const before = Date.now();
    gc();
    await settle(() => s.samples().length > 0);
    const [sample] = s.samples();
    expect(sample).toBeDefined();
    const { time, heapUsed, external, rss, forced } = sample as MemorySample;
    expect(forced).toBe(false);
    // Monotonic time from the process's start: within a second of the wall clock here.
    expect(Math.abs(time - before)).toBeLessThan(1_000);
    expect(heapUsed).toBeGreaterThan(1 * MB);
    expect(external).toBeGreaterThan(0);
    expect(rss).toBeGreaterThan(heapUsed);
  });

  it('records a major GC that V8 starts by itself under allocation pressure', async () => {
    const s = sampler({ maxGapMs: null });
    s.start();
    const deadline = Date.now() + 10_000;
    let retained: { i: number }[][] = [];
    while (s.samples().length === 0 && Date.now() < deadline) {
      // Kept over a few scavenges, so promoted: old-generation garbage once dropped, which
      // only a major GC frees (about 0.3 s of this on Node 20 and 24).
      retained.push(Array.from({ length: 10_000 }, (_, i) => ({ i })));
      if (retained.length > 100) retained = [];
      await nextTurn();
    }
    expect(s.samples().length).toBeGreaterThan(0);
  });

  it('reads heap used as it was right after the GC, not counting what was allocated since', async () => {
    const s = sampler({ maxGapMs: null });
    s.start();
    gc();
    const afterGc = process.memoryUsage().heapUsed;
    // Allocated before the observer's deferred callback runs: about 8 MB of live objects.
    const allocatedSince = Array.from({ length: 100_000 }, (_, i) => ({ i, name: `object ${i}` }));
    expect(process.memoryUsage().heapUsed - afterGc).toBeGreaterThan(4 * MB);
    await settle(() => s.samples().length > 0);
    expect(Math.abs((s.samples()[0]?.heapUsed ?? 0) - afterGc)).toBeLessThan(1 * MB);
    expect(allocatedSince.length).toBe(100_000);
  });

  it('keeps the newest samples up to its capacity, oldest first', async () => {
    const s = sampler({ capacity: 3, maxGapMs: null });
    s.start();
    for (let i = 0; i < 5; i++) {
      gc();
      await settle(() => s.samples().length > Math.min(i, 2));
    }
    const samples = s.samples();
    expect(samples).toHaveLength(3);
    expect(samples.map((x) => x.time)).toEqual([...samples.map((x) => x.time)].sort((a, b) => a - b));
    expect(new GcSampler().capacity).toBe(SAMPLE_CAPACITY);
  });

  it('forces a full GC on sampleNow and records it once, not again when its observer entry arrives', async () => {
    const s = sampler({ maxGapMs: null });
    s.start();
    const garbage = Array.from({ length: 50_000 }, (_, i) => ({ i }));
    const { sample, refusal } = s.sampleNow();
    expect(refusal).toBeNull();
    expect(sample?.forced).toBe(true);
    expect(s.samples()).toEqual([sample]);
    expect(s.stats()).toMatchObject({ forcedGcs: 1, naturalGcs: 0, lastRefusal: null });
    await settle();
    expect(s.samples()).toEqual([sample]);
    expect(garbage.length).toBe(50_000);
  });

  it(`forces at most one GC per ${FORCED_GC_MIN_INTERVAL_MS / 1000} s, answering the newest sample in between and when to ask again`, async () => {
    const s = sampler({ maxGapMs: null });
    s.start();
    const first = s.sampleNow().sample;
    const again = s.sampleNow();
    expect(again.sample).toBe(first);
    expect(again.refusal).toMatchObject({ code: 'GC_TOO_SOON', retryAt: expect.any(Number) });
    expect((again.refusal?.retryAt ?? 0) - (first?.time ?? 0)).toBeCloseTo(FORCED_GC_MIN_INTERVAL_MS, -2);
    expect(s.stats().lastRefusal?.code).toBe('GC_TOO_SOON');
    gc();
    await settle(() => s.samples().length > 1);
    const newest = s.samples().at(-1);
    expect(newest).not.toBe(first);
    expect(s.sampleNow().sample).toBe(newest);
    expect(s.samples()).toHaveLength(2);
    expect(s.stats()).toMatchObject({ forcedGcs: 1, naturalGcs: 1 });
  });

  it('calls each subscriber with every new sample until it unsubscribes', async () => {
    const s = sampler({ maxGapMs: null });
    s.start();
    const seenByA: MemorySample[] = [];
    const seenByB: MemorySample[] = [];
    const unsubscribeA = s.subscribe((x) => seenByA.push(x));
    const listenerB = (x: MemorySample) => seenByB.push(x);
    s.subscribe(listenerB);
    gc();
    await settle(() => seenByA.length > 0 && seenByB.length > 0);
    unsubscribeA();
    s.unsubscribe(listenerB);
    gc();
    await settle();
    expect(seenByA).toHaveLength(1);
    expect(seenByB).toEqual(seenByA);
    expect(s.samples()).toHaveLength(2);
  });

  it('drops a subscriber that throws, warns once, and keeps sampling for the others', async () => {
    const s = sampler({ maxGapMs: null });
    s.start();
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const seen: MemorySample[] = [];
    s.subscribe(() => {
      throw new Error('stream closed');
    });
    s.subscribe((x) => seen.push(x));
    gc();
    await settle(() => seen.length > 0);
    gc();
    await settle(() => seen.length > 1);
    expect(seen).toHaveLength(2);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/stream closed/);
  });

  it('stops: no sample, no subscriber call and no timer after stop()', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const s = sampler({ maxGapMs: 1_000 });
    const seen: MemorySample[] = [];
    s.start();
    s.start(); // a second start adds nothing
    s.subscribe((x) => seen.push(x));
    expect(vi.getTimerCount()).toBe(1);
    s.stop();
    expect(s.running).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    gc();
    await settle();
    vi.advanceTimersByTime(5_000);
    expect(s.samples()).toEqual([]);
    expect(seen).toEqual([]);
  });

  it('holds no ref on the event loop, so an idle app can still exit', () => {
    const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timeouts();
    const s = sampler({ maxGapMs: 1_000 });
    s.start();
    expect(timeouts()).toBe(before);
  });

  it('forces a sample when no major GC came for maxGapMs', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const s = sampler({ maxGapMs: 1_000, maxForcedPauseMs: 10_000 });
    s.start();
    vi.advanceTimersByTime(999);
    expect(s.samples()).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(s.samples()).toHaveLength(1);
  });

  it('forces no gap-filling GC whose pause its share of wall time could never hold, and says so', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    // A budget so small that no real pause ever fits in it.
    const s = sampler({ maxGapMs: 1_000, forcedGcBudget: 1e-9, maxForcedPauseMs: 10_000 });
    s.start();
    vi.advanceTimersByTime(10_000);
    expect(s.samples()).toHaveLength(0);
    expect(s.stats()).toMatchObject({ forcedGcs: 0, forcedPauseMs: 0, lastRefusal: { code: 'GC_PAUSE_TOO_LONG' } });
  });

  it('forces no GC expected to pause longer than maxForcedPauseMs, to fill a gap or when asked', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const s = sampler({ maxGapMs: 1_000, maxForcedPauseMs: 0 });
    s.start();
    vi.advanceTimersByTime(10_000);
    expect(s.samples()).toHaveLength(0);
    // Any read-scoped caller may ask, so the same limits apply.
    const asked = s.sampleNow();
    expect(asked.sample).toBeNull();
    expect(asked.refusal).toMatchObject({ code: 'GC_PAUSE_TOO_LONG', retryAt: null, expectedPauseMs: expect.any(Number) });
    expect(s.samples()).toHaveLength(0);
  });

  it('lengthens the gap as the gap policy says, counting from start', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const s = sampler({ maxGapMs: (runningMs) => (runningMs < 5_000 ? 1_000 : 20_000), maxForcedPauseMs: 10_000 });
    s.start();
    expect(s.stats().maxGapMs).toBe(1_000);
    vi.advanceTimersByTime(1_000);
    expect(s.samples()).toHaveLength(1);
  });

  it('refuses settings that cannot work', () => {
    expect(() => new GcSampler({ capacity: 0 })).toThrow(RangeError);
    expect(() => new GcSampler({ maxGapMs: 0 })).toThrow(RangeError);
    expect(() => new GcSampler({ forcedGcBudget: 1 })).toThrow(RangeError);
    expect(() => new GcSampler({ maxForcedPauseMs: -1 })).toThrow(RangeError);
  });
});
