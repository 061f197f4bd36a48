import { describe, expect, it } from 'vitest';
import { formatBytes } from '../bytes.js';
import type { LeakLevel, MemorySample } from '../protocol/leaks.js';
import { DEFAULT_LEAK_SETTINGS, judgeLeak, leakSettingsProblems } from './leak-verdict.js';

const MB = 1024 * 1024;
const KB = 1024;
const EPOCH = Date.UTC(2025, 0, 1);
const BASE_HEAP = 30 * MB;
const BASE_EXTERNAL = 2 * MB;

/** mulberry32: a small seeded PRNG, so every run sees the same series. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

interface Scenario {
  seconds?: number;
  /** Mean seconds between major GCs; each gap varies ±50%. */
  gcEvery?: number;
  /** Extra heap / external bytes over the baseline at time t (seconds). */
  heap?: (t: number) => number;
  external?: (t: number) => number;
  /** Uniform noise of ± this many bytes on each reading. */
  noise?: number;
  /** Share of readings taken amid garbage, inflated by up to `outlierBytes`. */
  outliers?: number;
  outlierBytes?: number;
  seed?: number;
}

/** Samples as a post-major-GC sampler would record them, at irregular GC times. */
function record(s: Scenario): MemorySample[] {
  const random = prng(s.seed ?? 1);
  const gcEvery = s.gcEvery ?? 2;
  const noise = s.noise ?? 200 * KB;
  const jitter = () => (random() * 2 - 1) * noise;
  const samples: MemorySample[] = [];
  for (let t = random() * gcEvery; t <= (s.seconds ?? 300); t += gcEvery * (0.5 + random())) {
    const outlier = random() < (s.outliers ?? 0) ? random() * (s.outlierBytes ?? 0) : 0;
    const heapUsed = BASE_HEAP + (s.heap?.(t) ?? 0) + jitter() + outlier;
    const external = BASE_EXTERNAL + (s.external?.(t) ?? 0) + jitter() / 4;
    samples.push({ time: EPOCH + t * 1000, heapUsed, external, rss: heapUsed + external + 40 * MB, forced: false });
  }
  return samples;
}

/** The verdict a watcher polling every `every` seconds would have seen at each poll. */
function timeline(samples: MemorySample[], every = 5): { t: number; verdict: LeakLevel }[] {
  const end = (samples.at(-1)?.time ?? EPOCH) - EPOCH;
  const seen: { t: number; verdict: LeakLevel }[] = [];
  for (let t = every; t * 1000 <= end + every * 1000; t += every) {
    seen.push({
      t,
      verdict: judgeLeak(
        samples.filter((x) => x.time <= EPOCH + t * 1000),
        {},
        { since: EPOCH },
      ).verdict,
    });
  }
  return seen;
}

function firstSuspected(samples: MemorySample[]): number | null {
  return timeline(samples).find((p) => p.verdict === 'suspected')?.t ?? null;
}

function neverSuspected(samples: MemorySample[]): void {
  expect(timeline(samples).filter((p) => p.verdict === 'suspected')).toEqual([]);
}

const linear = (bytesPerSecond: number) => (t: number) => bytesPerSecond * t;

describe('judgeLeak on a steady or oscillating heap', () => {
  it('calls a steady heap ok and never suspects it', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const samples = record({ seed });
      neverSuspected(samples);
      expect(judgeLeak(samples).verdict).toBe('ok');
    }
  });

  it('calls ok, not growing, a steady heap creeping up by a few hundred KB (lazy compilation)', () => {
    const samples = record({ heap: linear(1 * KB), noise: 20 * KB });
    const verdict = judgeLeak(samples);
    expect(verdict.series.heapUsed.mannKendallZ).toBeGreaterThan(DEFAULT_LEAK_SETTINGS.minZ);
    expect(verdict.verdict).toBe('ok');
    expect(verdict.reason).toMatch(/no growth worth noting/);
  });

  it('never suspects a sawtooth (a batch structure built over 60 s, then freed)', () => {
    for (const seed of [1, 2, 3]) {
      neverSuspected(record({ seed, heap: (t) => ((t % 60) / 60) * 20 * MB }));
    }
  });
});

describe('judgeLeak on bounded growth', () => {
  it('never suspects a cache filling linearly for 80 s then flat, judged every 5 s over 300 s', () => {
    for (const rate of [100 * KB, 500 * KB, 1 * MB, 4 * MB]) {
      for (const seed of [1, 2, 3]) {
        const samples = record({ seed, heap: (t) => rate * Math.min(t, 80) });
        neverSuspected(samples);
      }
    }
  });

  it('says growing, not suspected, while the cache fills', () => {
    const samples = record({ heap: (t) => 1 * MB * Math.min(t, 80) });
    const during = judgeLeak(samples.filter((s) => s.time <= EPOCH + 75_000));
    expect(during.verdict).toBe('growing');
    expect(during.series.heapUsed.failed).toContain('window-too-short');
  });

  it('never suspects a step change, wherever the step falls in the window', () => {
    for (const stepAt of [40, 100, 150, 220]) {
      for (const seed of [1, 2, 3]) {
        neverSuspected(record({ seed, heap: (t) => (t >= stepAt ? 20 * MB : 0) }));
      }
    }
  });

  it('never suspects log-like growth that keeps slowing down, and says it slows down', () => {
    for (const seed of [1, 2, 3]) {
      const samples = record({ seed, heap: (t) => 15 * MB * Math.log1p(t / 10) });
      neverSuspected(samples);
      expect(judgeLeak(samples).series.heapUsed.failed).toContain('slowing-down');
    }
  });
});

describe('judgeLeak on leaks', () => {
  it('suspects a 1 MB/s leak once the window spans 90 s (about 115 s in)', () => {
    const samples = record({ heap: linear(1 * MB) });
    const at = firstSuspected(samples);
    expect(at).toBeGreaterThanOrEqual(112.5); // 90 s window + 20% warm-up
    expect(at).toBeLessThanOrEqual(125);
    const verdict = judgeLeak(samples);
    expect(verdict.verdict).toBe('suspected');
    expect(verdict.series.heapUsed.failed).toEqual([]);
    expect((verdict.series.heapUsed.slopeBytesPerHour ?? 0) / (3600 * MB)).toBeCloseTo(1, 1);
    expect(verdict.reason).toMatch(/heap used/);
    // In the decimal units the CLI prints its lines under the reason in (docs/operations.md).
    const { growthBytes, slopeBytesPerHour } = verdict.series.heapUsed;
    expect(verdict.reason).toContain(`grew ${formatBytes(growthBytes ?? 0)} over`);
    expect(verdict.reason).toContain(`(${formatBytes(slopeBytesPerHour ?? 0)}/h)`);
    expect(verdict.reason).not.toMatch(/MiB/);
  });

  it('suspects a 100 KB/s leak within 200 s', () => {
    for (const seed of [1, 2, 3]) {
      const at = firstSuspected(record({ seed, heap: linear(100 * KB) }));
      expect(at).toBeGreaterThanOrEqual(112.5);
      expect(at).toBeLessThanOrEqual(200);
    }
  });

  it('keeps suspecting a steady leak once suspected', () => {
    const seen = timeline(record({ heap: linear(1 * MB) }));
    const from = seen.findIndex((p) => p.verdict === 'suspected');
    expect(seen.slice(from).every((p) => p.verdict === 'suspected')).toBe(true);
  });

  it('suspects a Buffer leak: external memory grows while the heap stays flat', () => {
    const verdict = judgeLeak(record({ external: linear(500 * KB) }));
    expect(verdict.verdict).toBe('suspected');
    expect(verdict.series.external.level).toBe('suspected');
    expect(verdict.series.heapUsed.level).toBe('ok');
    expect(verdict.reason).toMatch(/external memory/);
  });

  it('still suspects a leak through noise and readings taken amid garbage', () => {
    const samples = record({ heap: linear(300 * KB), noise: 1 * MB, outliers: 0.1, outlierBytes: 30 * MB });
    expect(judgeLeak(samples).verdict).toBe('suspected');
  });

  it('never suspects a steady heap with noise and readings taken amid garbage', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      neverSuspected(record({ seed, noise: 1 * MB, outliers: 0.1, outlierBytes: 30 * MB }));
    }
  });
});

describe('judgeLeak with little data', () => {
  it('never suspects before the judged window spans 90 s, whatever the growth', () => {
    const samples = record({ heap: linear(4 * MB), seconds: 110 });
    neverSuspected(samples);
    const verdict = judgeLeak(samples);
    expect(verdict.verdict).toBe('growing');
    expect(verdict.series.heapUsed.failed).toEqual(['window-too-short']);
    expect(verdict.spanSeconds).toBeLessThan(90);
  });

  it('says unknown, never ok, for a handful of samples however they climb, with how many more it needs', () => {
    const samples = record({ heap: linear(1 * MB), seconds: 200, gcEvery: 60 });
    const verdict = judgeLeak(samples.slice(0, 3), {}, { since: EPOCH });
    expect(verdict.verdict).toBe('unknown');
    expect(verdict.series.heapUsed.level).toBe('unknown');
    expect(verdict.series.heapUsed.failed).toContain('too-few-samples');
    expect(verdict.samplesNeeded).toBe(DEFAULT_LEAK_SETTINGS.minBuckets - verdict.samplesUsed);
    expect(verdict.reason).toMatch(/not enough data/);
  });

  it('answers an empty record with unknown, zero spans and null statistics', () => {
    const verdict = judgeLeak([]);
    expect(verdict).toMatchObject({ verdict: 'unknown', samplesUsed: 0, bucketsFilled: 0, samplesNeeded: 6, spanSeconds: 0, warmupSeconds: 0 });
    expect(verdict.series.heapUsed).toMatchObject({ slopeBytesPerHour: null, rSquared: null, mannKendallZ: null, baselineBytes: null });
  });

  it('says when a leak can first be suspected: once the record is long enough for a 90 s window after warm-up', () => {
    const verdict = judgeLeak(record({ seconds: 30 }), {}, { since: EPOCH });
    // 90 s after a 20% warm-up: 112.5 s into the record.
    expect(verdict.suspectPossibleAt).toBe(EPOCH + 112_500);
    expect(judgeLeak([], { minSpanSeconds: 30 }, { since: EPOCH }).suspectPossibleAt).toBe(EPOCH + 40_000);
  });

  it('measures the window from the warm-up boundary, not from the first sample after it', () => {
    // Samples every 10 s: at 120 s the window is 96 s (from 24 s), not 86 s (from 30 s).
    const samples = Array.from({ length: 12 }, (_, i) => ({
      time: EPOCH + (i + 1) * 10_000,
      heapUsed: BASE_HEAP + (i + 1) * 10 * MB,
      external: BASE_EXTERNAL,
      rss: 0,
      forced: false,
    }));
    const verdict = judgeLeak(samples, {}, { since: EPOCH });
    expect(verdict.warmupSeconds).toBe(24);
    expect(verdict.spanSeconds).toBe(96);
    expect(verdict.verdict).toBe('suspected');
  });

  it('counts warm-up from the start of the record, not from a late first sample', () => {
    const samples = record({ heap: linear(1 * MB), seconds: 130 }).filter((s) => s.time >= EPOCH + 40_000);
    // 20% of the ~130 s since the record began, not of the ~90 s since the first sample.
    expect(judgeLeak(samples, {}, { since: EPOCH }).warmupSeconds).toBeGreaterThan(25);
    expect(judgeLeak(samples).warmupSeconds).toBeLessThan(20);
  });

  it('drops the first 20% of the record, and at least 10 s, as warm-up', () => {
    expect(judgeLeak(record({ seconds: 300 })).warmupSeconds).toBeCloseTo(60, -1);
    expect(judgeLeak(record({ seconds: 30 })).warmupSeconds).toBe(10);
  });

  it('ignores readings that are not finite numbers', () => {
    const samples = record({ heap: linear(1 * MB) });
    const broken = [...samples, { time: EPOCH + 1_000, heapUsed: Number.NaN, external: 0, rss: 0, forced: false }];
    expect(judgeLeak(broken).samplesUsed).toBe(judgeLeak(samples).samplesUsed);
  });
});

describe('judgeLeak with sparse major GCs (Node 24: one every ~25 s)', () => {
  it('suspects a 1 MB/s leak later, once enough samples are in the window', () => {
    for (const seed of [1, 2, 3]) {
      const at = firstSuspected(record({ seed, heap: linear(1 * MB), gcEvery: 25, seconds: 400 }));
      expect(at).toBeGreaterThanOrEqual(112.5);
      expect(at).toBeLessThanOrEqual(250);
    }
  });

  it('never suspects a steady heap or a filling cache', () => {
    for (const seed of [1, 2, 3]) {
      neverSuspected(record({ seed, gcEvery: 25, seconds: 400 }));
      neverSuspected(record({ seed, gcEvery: 25, seconds: 400, heap: (t) => 1 * MB * Math.min(t, 80) }));
    }
  });
});

/** Samples in bursts: `size` GCs 2 s apart, a burst every `every` seconds, as V8 runs them under growth. */
function bursts(s: Scenario & { every: number; size: number }): MemorySample[] {
  return record({ ...s, gcEvery: 1 }).filter((x) => ((x.time - EPOCH) / 1000) % s.every < s.size * 2);
}

describe('judgeLeak when samples come in bursts with long gaps', () => {
  it('fits the samples themselves when too few buckets hold one, and suspects a leak', () => {
    const samples = bursts({ heap: linear(1 * MB), every: 60, size: 3, seconds: 300 });
    const verdict = judgeLeak(samples, {}, { since: EPOCH });
    expect(verdict.bucketsFilled).toBeLessThan(DEFAULT_LEAK_SETTINGS.minBuckets);
    expect(verdict.fittedOn).toBe('samples');
    expect(verdict.verdict).toBe('suspected');
  });

  it("fits the samples when two GCs share the only bucket of the window's later half, and keeps suspecting", () => {
    const samples = record({ heap: linear(1 * MB), gcEvery: 2 }).filter(
      (x) => x.time <= EPOCH + 150_000 || (x.time >= EPOCH + 262_000 && x.time <= EPOCH + 268_000),
    );
    const verdict = judgeLeak(samples, {}, { since: EPOCH });
    expect(verdict.fittedOn).toBe('samples');
    expect(verdict.bucketsFilled).toBeGreaterThanOrEqual(DEFAULT_LEAK_SETTINGS.minBuckets);
    expect(verdict.verdict).toBe('suspected');
  });

  it('never suspects a steady heap, a step, or a cache whose GCs came while it filled and stopped when it was full', () => {
    for (const seed of [1, 2, 3]) {
      neverSuspected(bursts({ seed, every: 40, size: 3 }));
      neverSuspected(bursts({ seed, every: 40, size: 3, heap: (t) => (t >= 100 ? 20 * MB : 0) }));
      // Filling: a GC every ~2 s; full: one a minute.
      const cache = record({ seed, heap: (t) => 1 * MB * Math.min(t, 80) }).filter(
        (x) => x.time <= EPOCH + 80_000 || Math.round((x.time - EPOCH) / 1000) % 60 < 2,
      );
      neverSuspected(cache);
    }
  });

  it('never suspects a cache whose later half holds two samples a few seconds apart, however noisy', () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      // Filling: a GC every ~2 s; full: a pair of GCs 5 s apart every 100 s.
      const cache = record({ seed, noise: 1 * MB, heap: (t) => 1 * MB * Math.min(t, 80) }).filter(
        (x) => x.time <= EPOCH + 80_000 || Math.round((x.time - EPOCH) / 1000) % 100 < 6,
      );
      neverSuspected(cache);
    }
  });
});

describe('judgeLeak settings and wire shape', () => {
  it('takes overrides, such as a shorter minimum span', () => {
    const samples = record({ heap: linear(1 * MB), seconds: 80 });
    expect(judgeLeak(samples).verdict).toBe('growing');
    const verdict = judgeLeak(samples, { minSpanSeconds: 30 });
    expect(verdict.verdict).toBe('suspected');
    expect(verdict.settings).toEqual({ ...DEFAULT_LEAK_SETTINGS, minSpanSeconds: 30 });
  });

  it('names every bad setting, and judgeLeak refuses them with a RangeError', () => {
    expect(leakSettingsProblems({})).toEqual([]);
    const problems = leakSettingsProblems({ buckets: 2.5, minRSquared: 2, warmupFraction: Number.NaN, minBuckets: 20, bogus: 1 });
    expect(problems).toHaveLength(6);
    expect(problems.join('\n')).toMatch(/bogus.*not a leak setting/);
    expect(() => judgeLeak([], { buckets: 1 })).toThrow(RangeError);
  });

  it('returns plain JSON data: no NaN, no Infinity, nothing lost in a round trip', () => {
    for (const samples of [[], record({ seconds: 5 }), record({ heap: linear(1 * MB) }), record({})]) {
      const verdict = judgeLeak(samples);
      expect(JSON.parse(JSON.stringify(verdict))).toEqual(verdict);
    }
  });
});
