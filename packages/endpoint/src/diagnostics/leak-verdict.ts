// judgeLeak(): does memory leak? A pure judgement over post-major-GC samples, by the rule
// measured in docs/leak-detection.md: heap used and external memory are each judged on
// the minima of 12 time buckets after a warm-up (on the samples themselves when too few
// buckets hold one), and called `suspected` only when the growth is significant, linear,
// large, sustained and seen for long enough. False alarms cost more than a late verdict,
// so a rise that is significant but not conclusive (too early, too small, slowing down)
// is only `growing`; too few samples to judge at all is `unknown`, never `ok`.

import { formatBytes } from '../bytes.js';
import {
  LEAK_LEVELS,
  type LeakCondition,
  type LeakLevel,
  type LeakPoints,
  type LeakSeriesEvidence,
  type LeakSeriesName,
  type LeakSettings,
  type LeakVerdict,
  type MemorySample,
} from '../protocol/leaks.js';

/** The samples judgeLeak() reads; `rss` is not judged. */
export type JudgedSample = Pick<MemorySample, 'time' | 'heapUsed' | 'external'>;

// Defaults, as measured on recorded 300 s runs of real HTTP apps (docs/leak-detection.md,
// and the recordings under test/fixtures/leak-recordings/ that a test replays).
/** Start-up allocates (JIT, lazy modules, pools): its growth is not a leak. */
const WARMUP_FRACTION = 0.2;
/** ... and at least this much is warm-up however short the record. */
const WARMUP_MIN_SECONDS = 10;
/** Minimum per time bucket: the live set, robust to a sample taken amid garbage. */
const BUCKET_COUNT = 12;
/**
 * The fewest points for which Mann-Kendall can reach Z 2.33 (6 rising points give 2.63): with
 * fewer samples than this after warm-up the verdict is `unknown`. When the samples cluster
 * in fewer buckets than this (V8's major GCs come in bursts), each sample is a point.
 */
const MIN_BUCKETS = 6;
/** One-sided p < 0.01 that the bucket minima rise. */
const MIN_MANN_KENDALL_Z = 2.33;
/** Steps and plateaus fit a straight line badly; a steady leak fits it well. */
const MIN_R_SQUARED = 0.6;
/** Growth must matter relative to the heap... */
const MIN_GROWTH_FRACTION = 0.05;
/** ...and in absolute terms: a few MB move with caches and compiled code. 4 MiB. */
const MIN_GROWTH_BYTES = 4 * 1024 * 1024;
/** The later half rising slower than this share of the first means a plateau ahead (log-like growth, filling caches). */
const MIN_HALVES_RATIO = 0.75;
/**
 * Each half must rise at least at this share of the whole window's slope to count as rising.
 * "Rising" as merely > 0 let noise pass a step that fell between the halves: 200 false alarms
 * in 12,000 judgements of synthetic steps; a steady leak's halves each rise at about the
 * window's slope.
 */
const MIN_HALF_SHARE = 0.5;
/**
 * A significant trend is `growing` only when its growth reaches this share of the growth
 * `suspected` needs (1 MiB by default). Lazy compilation and small caches grow a steady heap
 * by a few hundred KB over minutes: significant, and not worth a word (seen on a steady
 * node:http app, Node 20 and 24, where it was otherwise `growing` half of the time).
 */
const MIN_GROWING_SHARE = 0.25;
/** A bounded cache filling linearly for ~80 s looks exactly like a leak until it stops: never suspect sooner. */
const MIN_SPAN_SECONDS = 90;

export const DEFAULT_LEAK_SETTINGS: Readonly<LeakSettings> = Object.freeze({
  warmupFraction: WARMUP_FRACTION,
  warmupMinSeconds: WARMUP_MIN_SECONDS,
  buckets: BUCKET_COUNT,
  minBuckets: MIN_BUCKETS,
  minZ: MIN_MANN_KENDALL_Z,
  minRSquared: MIN_R_SQUARED,
  minGrowthFraction: MIN_GROWTH_FRACTION,
  minGrowthBytes: MIN_GROWTH_BYTES,
  minHalvesRatio: MIN_HALVES_RATIO,
  minHalfShare: MIN_HALF_SHARE,
  minGrowingShare: MIN_GROWING_SHARE,
  minSpanSeconds: MIN_SPAN_SECONDS,
});

/** The record the samples come from. */
export interface LeakRecord {
  /**
   * When recording began (ms since the epoch, the samples' clock): warm-up is counted from
   * here, so a process whose first major GC comes late does not get a longer one.
   * Default: the first sample's time.
   */
  since?: number;
}

const MS_PER_HOUR = 3_600_000;
const MS_PER_SECOND = 1_000;
// Fewest points a slope, a median or a fit says anything about.
const MIN_FIT_POINTS = 3;

interface Point {
  t: number;
  v: number;
}

/**
 * Judges the samples (any order; non-finite readings are ignored) of a record that began at
 * `record.since`. The warm-up is the first max(warmupFraction of the record, warmupMinSeconds),
 * the record ending at the newest sample, and the judged window runs from that boundary (not
 * from the first sample after it) to the newest sample. Throws a RangeError on bad settings.
 */
export function judgeLeak(samples: readonly JudgedSample[], overrides: Partial<LeakSettings> = {}, record: LeakRecord = {}): LeakVerdict {
  const settings = leakSettings(overrides);
  const sorted = samples.filter(isFiniteSample).sort((a, b) => a.time - b.time);
  const since = Math.min(record.since ?? Number.POSITIVE_INFINITY, sorted[0]?.time ?? record.since ?? 0);
  const newest = sorted.at(-1)?.time ?? since;
  const recordMs = newest - since;
  const warmupMs = Math.max(recordMs * settings.warmupFraction, settings.warmupMinSeconds * MS_PER_SECOND);
  const start = since + warmupMs;
  const window = sorted.filter((s) => s.time >= start);
  const spanMs = Math.max(0, newest - start);

  const heapUsed = trendPoints(window, 'heapUsed', start, spanMs, settings);
  const external = trendPoints(window, 'external', start, spanMs, settings);
  const series: Record<LeakSeriesName, LeakSeriesEvidence> = {
    heapUsed: judgeSeries(heapUsed.points, start, spanMs, settings),
    external: judgeSeries(external.points, start, spanMs, settings),
  };
  const verdict = worst(series.heapUsed.level, series.external.level);
  return {
    verdict,
    reason: explain(verdict, series, window.length, spanMs, settings),
    samplesUsed: window.length,
    bucketsFilled: heapUsed.bucketsFilled,
    fittedOn: heapUsed.fittedOn,
    samplesNeeded: Math.max(0, settings.minBuckets - window.length),
    spanSeconds: round(spanMs / MS_PER_SECOND, 1),
    warmupSeconds: round(Math.min(warmupMs, recordMs) / MS_PER_SECOND, 1),
    suspectPossibleAt: Math.round(since + firstSuspectRecordMs(settings)),
    series,
    settings,
  };
}

/** The defaults with these overrides. Throws a RangeError on bad settings. */
export function leakSettings(overrides: Partial<LeakSettings> = {}): LeakSettings {
  const problems = leakSettingsProblems(overrides);
  if (problems.length > 0) throw new RangeError(`bad leak settings: ${problems.join('; ')}`);
  return { ...DEFAULT_LEAK_SETTINGS, ...definedOnly(overrides) };
}

/** Length of the shortest record whose window (after its warm-up) spans minSpanSeconds. */
function firstSuspectRecordMs(settings: LeakSettings): number {
  const spanMs = settings.minSpanSeconds * MS_PER_SECOND;
  return Math.max(spanMs / (1 - settings.warmupFraction), spanMs + settings.warmupMinSeconds * MS_PER_SECOND);
}

/** What is wrong with these overrides (trusted or not), one sentence each; empty when judgeLeak() can use them. */
export function leakSettingsProblems(overrides: Readonly<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  const merged: Record<string, unknown> = { ...DEFAULT_LEAK_SETTINGS, ...definedOnly(overrides) };
  for (const key of Object.keys(overrides)) {
    if (!Object.hasOwn(DEFAULT_LEAK_SETTINGS, key)) problems.push(`\`${key}\` is not a leak setting; known: ${Object.keys(DEFAULT_LEAK_SETTINGS).join(', ')}`);
  }
  for (const [key, [least, most]] of Object.entries(SETTING_RANGES)) {
    const value = merged[key];
    if (typeof value !== 'number' || !(value >= least && value <= most)) {
      problems.push(`\`${key}\` must be a number from ${least} to ${most}, not ${JSON.stringify(value)}`);
    }
  }
  for (const key of ['buckets', 'minBuckets'] as const) {
    if (!Number.isInteger(merged[key])) problems.push(`\`${key}\` must be an integer`);
  }
  if (Number(merged['minBuckets']) > Number(merged['buckets'])) problems.push('`minBuckets` must not exceed `buckets`');
  return problems;
}

// Inclusive bounds of each setting: fractions within 0-1, counts that leave something to fit.
const SETTING_RANGES: Record<keyof LeakSettings, readonly [number, number]> = {
  warmupFraction: [0, 0.9],
  warmupMinSeconds: [0, Number.MAX_SAFE_INTEGER],
  buckets: [MIN_FIT_POINTS, 1_000],
  minBuckets: [MIN_FIT_POINTS, 1_000],
  minZ: [0, 100],
  minRSquared: [0, 1],
  minGrowthFraction: [0, 100],
  minGrowthBytes: [0, Number.MAX_SAFE_INTEGER],
  minHalvesRatio: [0, 100],
  minHalfShare: [0, 100],
  minGrowingShare: [0, 1],
  minSpanSeconds: [0, Number.MAX_SAFE_INTEGER],
};

function judgeSeries(points: Point[], start: number, spanMs: number, settings: LeakSettings): LeakSeriesEvidence {
  const slope = theilSenSlope(points);
  const baseline = slope === null ? null : theilSenIntercept(points, slope, start);
  const growth = slope === null ? null : slope * spanMs;
  const required = baseline === null ? null : Math.max(settings.minGrowthFraction * baseline, settings.minGrowthBytes);
  const z = mannKendallZ(points);
  const r2 = rSquared(points);
  const middle = start + spanMs / 2;
  const firstHalf = theilSenSlope(points.filter((p) => p.t < middle));
  const laterHalf = theilSenSlope(points.filter((p) => p.t >= middle));

  const failed: LeakCondition[] = [];
  const tooFew = points.length < settings.minBuckets;
  if (tooFew) failed.push('too-few-samples');
  if (spanMs < settings.minSpanSeconds * MS_PER_SECOND) failed.push('window-too-short');
  if (z === null || slope === null || !(z > settings.minZ && slope > 0)) failed.push('no-significant-trend');
  if (r2 === null || r2 < settings.minRSquared) failed.push('not-linear');
  if (growth === null || required === null || growth < required) failed.push('growth-too-small');
  const halves = judgeHalves(firstHalf, laterHalf, slope, settings);
  if (halves !== null) failed.push(halves);

  const noticeable = growth !== null && required !== null && growth >= settings.minGrowingShare * required;
  const level: LeakLevel = tooFew ? 'unknown' : failed.length === 0 ? 'suspected' : !failed.includes('no-significant-trend') && noticeable ? 'growing' : 'ok';
  return {
    level,
    slopeBytesPerHour: perHour(slope),
    growthBytes: bytes(growth),
    baselineBytes: bytes(baseline),
    requiredGrowthBytes: bytes(required),
    rSquared: r2 === null ? null : round(r2, 3),
    mannKendallZ: z === null ? null : round(z, 3),
    firstHalfSlopeBytesPerHour: perHour(firstHalf),
    laterHalfSlopeBytesPerHour: perHour(laterHalf),
    failed,
  };
}

/** Whether growth is sustained: both halves rise, the later one not much slower. */
function judgeHalves(first: number | null, later: number | null, slope: number | null, settings: LeakSettings): LeakCondition | null {
  if (first === null || later === null || slope === null) return 'half-not-rising';
  const rises = (half: number) => half > 0 && half >= settings.minHalfShare * slope;
  if (!rises(first) || !rises(later)) return 'half-not-rising';
  return later < settings.minHalvesRatio * first ? 'slowing-down' : null;
}

/**
 * The points a series' trend is fitted on: each time bucket's minimum; but each sample when
 * the window holds minBuckets samples and the buckets cannot show a trend: fewer than
 * minBuckets of them hold a sample, or one half of the window has a single bucket's point
 * while it has two samples. V8's own major GCs come in bursts with long gaps between
 * (Node 24: 40-80 s), and forced ones may be refused on a large heap: a bucket minimum would
 * then merge the few samples there are, and the verdict would stay `unknown` for minutes,
 * or fall back from `suspected` whenever two GCs shared a bucket in the later half.
 */
function trendPoints(
  window: readonly JudgedSample[],
  key: LeakSeriesName,
  start: number,
  spanMs: number,
  settings: LeakSettings,
): { points: Point[]; bucketsFilled: number; fittedOn: LeakPoints } {
  const minima = bucketMinima(window, key, start, spanMs, settings.buckets);
  const samples = window.map((s) => ({ t: s.time, v: s[key] }));
  const middle = start + spanMs / 2;
  const useSamples =
    samples.length >= settings.minBuckets && (minima.length < settings.minBuckets || (!halvesHold(minima, middle) && halvesHold(samples, middle)));
  return { points: useSamples ? samples : minima, bucketsFilled: minima.length, fittedOn: useSamples ? 'samples' : 'buckets' };
}

/** Whether each half of the window holds the 2 points a slope needs. */
function halvesHold(points: readonly Point[], middle: number): boolean {
  const first = points.filter((p) => p.t < middle).length;
  return first >= 2 && points.length - first >= 2;
}

/** Each non-empty bucket's minimum, at the time it was seen. */
function bucketMinima(window: readonly JudgedSample[], key: LeakSeriesName, start: number, spanMs: number, buckets: number): Point[] {
  const minima: (Point | undefined)[] = new Array(buckets);
  for (const sample of window) {
    const index = spanMs === 0 ? 0 : Math.min(buckets - 1, Math.floor(((sample.time - start) / spanMs) * buckets));
    const current = minima[index];
    if (current === undefined || sample[key] < current.v) minima[index] = { t: sample.time, v: sample[key] };
  }
  return minima.filter((p): p is Point => p !== undefined);
}

/** Median of the pairwise slopes, in bytes per ms: one wild point cannot tilt it. */
function theilSenSlope(points: readonly Point[]): number | null {
  if (points.length < 2) return null;
  const slopes: number[] = [];
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const a = points[i] as Point;
      const b = points[j] as Point;
      if (b.t !== a.t) slopes.push((b.v - a.v) / (b.t - a.t));
    }
  }
  return median(slopes);
}

function theilSenIntercept(points: readonly Point[], slope: number, at: number): number | null {
  return median(points.map((p) => p.v - slope * (p.t - at)));
}

/** Mann-Kendall trend statistic, with the tie correction and continuity correction. */
function mannKendallZ(points: readonly Point[]): number | null {
  const n = points.length;
  if (n < MIN_FIT_POINTS) return null;
  let s = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) s += Math.sign((points[j] as Point).v - (points[i] as Point).v);
  }
  const ties = new Map<number, number>();
  for (const p of points) ties.set(p.v, (ties.get(p.v) ?? 0) + 1);
  let variance = n * (n - 1) * (2 * n + 5);
  for (const t of ties.values()) variance -= t * (t - 1) * (2 * t + 5);
  variance /= 18;
  if (variance <= 0 || s === 0) return 0;
  return (s - Math.sign(s)) / Math.sqrt(variance);
}

function rSquared(points: readonly Point[]): number | null {
  const n = points.length;
  if (n < MIN_FIT_POINTS) return null;
  const meanT = points.reduce((sum, p) => sum + p.t, 0) / n;
  const meanV = points.reduce((sum, p) => sum + p.v, 0) / n;
  let stt = 0;
  let stv = 0;
  let svv = 0;
  for (const p of points) {
    stt += (p.t - meanT) ** 2;
    stv += (p.t - meanT) * (p.v - meanV);
    svv += (p.v - meanV) ** 2;
  }
  if (stt === 0 || svv === 0) return null;
  return (stv * stv) / (stt * svv);
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function explain(verdict: LeakLevel, series: Record<LeakSeriesName, LeakSeriesEvidence>, used: number, spanMs: number, settings: LeakSettings): string {
  const span = `${Math.round(spanMs / MS_PER_SECOND)} s`;
  const name = series.heapUsed.level === verdict ? 'heapUsed' : 'external';
  const evidence = series[name];
  const what = name === 'heapUsed' ? 'heap used' : 'external memory';
  const grew = `${what} after major GCs grew ${size(evidence.growthBytes)} over ${span} (${size(evidence.slopeBytesPerHour)}/h)`;
  if (verdict === 'suspected') return `${grew}, steadily and without slowing down: a leak is likely.`;
  if (verdict === 'growing') return `${grew}, but ${HOLD_BACK[evidence.failed[0] ?? 'no-significant-trend'](settings)}.`;
  if (verdict === 'unknown')
    return `not enough data yet: ${used} post-GC sample${used === 1 ? '' : 's'} after warm-up, and a verdict needs ${settings.minBuckets}.`;
  return `no growth worth noting in heap used or external memory after major GCs over ${span} (${used} sample${used === 1 ? '' : 's'}).`;
}

// Why a significant trend is not (yet) called a leak, completing "..., but ".
const HOLD_BACK: Record<LeakCondition, (settings: LeakSettings) => string> = {
  'too-few-samples': (s) => `fewer than ${s.minBuckets} samples after warm-up`,
  'window-too-short': (s) => `the window is shorter than ${s.minSpanSeconds} s, when a filling cache still looks like a leak`,
  'no-significant-trend': () => 'the trend is not significant',
  'not-linear': () => 'not in a straight line (a step or a plateau)',
  'growth-too-small': () => 'too little to matter yet',
  'half-not-rising': () => 'not in both halves of the window (a step, growth that stopped, or too few samples in one half to tell)',
  'slowing-down': () => 'slowing down (a cache or pool filling towards its bound)',
};

function worst(a: LeakLevel, b: LeakLevel): LeakLevel {
  return LEAK_LEVELS.indexOf(a) >= LEAK_LEVELS.indexOf(b) ? a : b;
}

function isFiniteSample(s: JudgedSample): boolean {
  return Number.isFinite(s.time) && Number.isFinite(s.heapUsed) && Number.isFinite(s.external);
}

/** `{ minZ: undefined }` keeps the default rather than erasing it. */
function definedOnly<T extends object>(overrides: T): Partial<T> {
  return Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function perHour(bytesPerMs: number | null): number | null {
  return bytesPerMs === null ? null : Math.round(bytesPerMs * MS_PER_HOUR);
}

function bytes(value: number | null): number | null {
  return value === null ? null : Math.round(value);
}

/** In the decimal units the CLI prints under the reason ("37.2 MB after GC, +1.8 GB/h"). */
function size(value: number | null): string {
  return value === null ? '?' : formatBytes(value);
}

function round(value: number, decimals: number): number {
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
}
