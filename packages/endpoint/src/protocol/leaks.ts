// Leak detection on the wire: the post-GC samples, the verdict and its evidence
// (diagnostics/leak-verdict.ts judges), the status and events of the leak monitor
// (diagnostics/leak-monitor.ts), and why a GC was not forced for a sample
// (diagnostics/forced-gc.ts). The defaults named in LeakSettings live in leak-verdict.ts.

/** `unknown`: too few post-GC samples after warm-up to say anything, not even `ok`. */
export const LEAK_LEVELS = ['unknown', 'ok', 'growing', 'suspected'] as const;
export type LeakLevel = (typeof LEAK_LEVELS)[number];

/** The two series judged: heap used and external memory (Buffers, ArrayBuffers, native). */
export const LEAK_SERIES = ['heapUsed', 'external'] as const;
export type LeakSeriesName = (typeof LEAK_SERIES)[number];

/**
 * Why a series is not `suspected`, stable for machines:
 * - `too-few-samples`: fewer samples after warm-up than `minBuckets` (the verdict is `unknown`);
 * - `window-too-short`: the judged window, from the warm-up boundary to the newest sample, spans less than `minSpanSeconds`;
 * - `no-significant-trend`: Mann-Kendall Z not above `minZ`, or the trend is not upwards;
 * - `not-linear`: R² of a straight line through the bucket minima below `minRSquared`;
 * - `growth-too-small`: growth over the window below max(`minGrowthFraction` of baseline, `minGrowthBytes`);
 * - `half-not-rising`: the first or the later half of the window rises slower than `minHalfShare` of
 *   the whole window's slope (a step between the halves makes the window rise while neither half does),
 *   or holds fewer than 2 points (a cache that filled in the first half may be flat in the second);
 * - `slowing-down`: the later half rises slower than `minHalvesRatio` of the first (a plateau ahead).
 */
export const LEAK_CONDITIONS = [
  'too-few-samples',
  'window-too-short',
  'no-significant-trend',
  'not-linear',
  'growth-too-small',
  'half-not-rising',
  'slowing-down',
] as const;
export type LeakCondition = (typeof LEAK_CONDITIONS)[number];

/** One reading taken right after a major (mark-sweep-compact) GC. */
export interface MemorySample {
  /** Milliseconds since the epoch. */
  time: number;
  /** Bytes of JS heap in use after the GC. */
  heapUsed: number;
  /** Bytes of memory held outside the JS heap by JS objects (Buffers, ArrayBuffers, native). */
  external: number;
  /** Resident set size in bytes: shown, never judged (allocators keep freed pages). */
  rss: number;
  /** Whether the GC was forced to take this sample, rather than run by V8 itself. */
  forced: boolean;
}

export interface LeakSettings {
  /** Share of the record's span dropped at its start as warm-up. Default WARMUP_FRACTION (0.2). */
  warmupFraction: number;
  /** Least warm-up dropped, in seconds. Default WARMUP_MIN_SECONDS (10). */
  warmupMinSeconds: number;
  /** Time buckets the window is cut into. Default BUCKET_COUNT (12). */
  buckets: number;
  /** Points (filled buckets, or else samples) needed before anything but `unknown`. Default MIN_BUCKETS (6). */
  minBuckets: number;
  /** Mann-Kendall Z the trend must exceed. Default MIN_MANN_KENDALL_Z (2.33). */
  minZ: number;
  /** Least R² of a straight line through the bucket minima. Default MIN_R_SQUARED (0.6). */
  minRSquared: number;
  /** Least growth over the window as a share of the baseline. Default MIN_GROWTH_FRACTION (0.05). */
  minGrowthFraction: number;
  /** Least growth over the window in bytes. Default MIN_GROWTH_BYTES (4 MiB). */
  minGrowthBytes: number;
  /** Least ratio of the later half's slope to the first half's. Default MIN_HALVES_RATIO (0.75). */
  minHalvesRatio: number;
  /** Least share of the window's slope each half must rise at. Default MIN_HALF_SHARE (0.5). */
  minHalfShare: number;
  /** Least share of the required growth a significant trend needs to be `growing`. Default MIN_GROWING_SHARE (0.25). */
  minGrowingShare: number;
  /** Least span of the judged window, in seconds, before anything is `suspected`. Default MIN_SPAN_SECONDS (90). */
  minSpanSeconds: number;
}

/** The evidence on one series. Statistics are null where too few points define them. */
export interface LeakSeriesEvidence {
  level: LeakLevel;
  /** Theil-Sen slope through the bucket minima, bytes per hour. */
  slopeBytesPerHour: number | null;
  /** The slope times the window's span, in bytes. */
  growthBytes: number | null;
  /** The trend line's value at the window's start, in bytes. */
  baselineBytes: number | null;
  /** max(minGrowthFraction × baseline, minGrowthBytes). */
  requiredGrowthBytes: number | null;
  /** Of the least-squares line through the bucket minima; null when they are all equal. */
  rSquared: number | null;
  mannKendallZ: number | null;
  firstHalfSlopeBytesPerHour: number | null;
  laterHalfSlopeBytesPerHour: number | null;
  /** Empty exactly when `level` is `suspected`. */
  failed: LeakCondition[];
}

/** What the trend is fitted on: each time bucket's minimum, or each sample when too few buckets hold one. */
export type LeakPoints = 'buckets' | 'samples';

export interface LeakVerdict {
  verdict: LeakLevel;
  /** One sentence for a human. */
  reason: string;
  /** Samples in the judged window (after warm-up). */
  samplesUsed: number;
  /** Buckets holding at least one sample. */
  bucketsFilled: number;
  /** What the trend was fitted on. */
  fittedOn: LeakPoints;
  /** More samples after warm-up needed before the verdict can be anything but `unknown`; 0 once enough. */
  samplesNeeded: number;
  /** Span of the judged window, from the warm-up boundary to the newest sample, in seconds. */
  spanSeconds: number;
  /** Warm-up dropped from the start of the record, in seconds. */
  warmupSeconds: number;
  /**
   * The earliest time (ms since the epoch, the samples' clock) a sample can make the window
   * span `minSpanSeconds`, before which nothing is `suspected`.
   */
  suspectPossibleAt: number;
  series: Record<LeakSeriesName, LeakSeriesEvidence>;
  settings: LeakSettings;
}

export interface LeakStatus {
  verdict: LeakVerdict;
  /** Post-GC samples kept, oldest first. */
  samples: MemorySample[];
  /** When monitoring began (ms since the epoch): the record's start, from which warm-up counts. */
  since: number;
  /** When this status was made (ms since the epoch, the samples' clock). */
  time: number;
  /** Live streams open now. */
  watchers: number;
  /** What the GC sampler has done, and why it last could not force a GC. */
  sampling: SamplerStats;
  /** Only when a GC sample was asked for (gc=true): whether a GC was forced, and if not, why. */
  gcRequest?: GcRequestResult;
}

export interface GcRequestResult {
  forced: boolean;
  refusal: ForcedGcRefusal | null;
}

/** A sample with the verdict after it; `changed` when the verdict's level moved. */
export interface LeakEvent {
  type: 'sample';
  sample: MemorySample;
  verdict: LeakVerdict;
  changed: boolean;
  /**
   * The sampler's stats right after this sample, as in LeakStatus.sampling: a watcher keeps
   * its GC counts current from these. Absent from endpoints older than this field.
   */
  sampling?: SamplerStats;
}

/** What the sampler has done since it started. */
export interface SamplerStats {
  /** Major GCs V8 ran by itself, sampled, and their total duration (its atomic pause; the incremental marking before it is not counted). */
  naturalGcs: number;
  naturalPauseMs: number;
  /** GCs forced for a sample (to fill a gap or when asked), and their total pause. */
  forcedGcs: number;
  forcedPauseMs: number;
  /** How long the sampler now waits for V8's own major GC before forcing one; null when it never forces. */
  maxGapMs: number | null;
  /** Why the latest attempt to force a GC was refused; null when it succeeded (or none was made). */
  lastRefusal: ForcedGcRefusal | null;
}

/**
 * Why a GC was not forced, stable for machines:
 * - `GC_TOO_SOON`: another was forced less than FORCED_GC_MIN_INTERVAL_MS ago;
 * - `GC_PAUSE_TOO_LONG`: the heap is so large that the pause would exceed the cap;
 * - `GC_BUDGET_SPENT`: forced GCs have taken their share of wall time;
 * - `GC_UNAVAILABLE`: this process cannot force a GC.
 */
export const FORCED_GC_REFUSALS = ['GC_TOO_SOON', 'GC_PAUSE_TOO_LONG', 'GC_BUDGET_SPENT', 'GC_UNAVAILABLE'] as const;
export type ForcedGcRefusalCode = (typeof FORCED_GC_REFUSALS)[number];

export interface ForcedGcRefusal {
  code: ForcedGcRefusalCode;
  /** One sentence for a human. */
  message: string;
  /** The pause a forced GC was expected to take, in ms; null when none can be forced. */
  expectedPauseMs: number | null;
  /** When a forced GC may be asked for again (ms since the epoch, the samples' clock); null: not while the heap is this large, or never. */
  retryAt: number | null;
}

/** One line of the GET /leaks/stream NDJSON stream. */
export type LeakStreamLine = ({ type: 'status' } & LeakStatus) | LeakEvent | { type: 'heartbeat'; time: number };
