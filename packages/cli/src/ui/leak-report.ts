// How a leak status reads on screen: the verdict frame (`opsctl leaks`, redrawn by
// --watch), a one-line form for terminals that cannot redraw, and what a verdict calls for
// next. `unknown` never reads as OK: it says how much is missing and how long that takes.
import type { ChalkInstance } from 'chalk';
import type { GcRequestResult, LeakStatus, MemorySample } from '../endpoint/protocol.js';
import { formatBytes, formatCountOf, formatDuration } from './format.js';
import { sparkline } from './sparkline.js';

/** The command that shows what grows, named when a leak is suspected. */
export const DIFF_COMMAND = 'opsctl leaks --diff --interval 60s';

const LEVEL_STYLE: Record<string, (c: ChalkInstance, text: string) => string> = {
  unknown: (c, t) => c.dim(t),
  ok: (c, t) => c.green(t),
  growing: (c, t) => c.yellow(t),
  suspected: (c, t) => c.bold.red(t),
};

/** A level in its colour; a level this CLI does not know yet is shown as it came. */
function level(c: ChalkInstance, name: string, text = name): string {
  return (LEVEL_STYLE[name] ?? ((_, t: string) => t))(c, text);
}

export interface WatchTimes {
  /** The endpoint's clock now (ms since the epoch). */
  now: number;
  /** When this command started watching, on the same clock; null for a one-shot status. */
  watchingSince: number | null;
}

/** The verdict, its evidence, the post-GC trend and what comes next, in a few lines. */
export function renderStatus(status: LeakStatus, c: ChalkInstance, columns: number, times: WatchTimes): string {
  const { verdict } = status;
  const width = Math.max(10, Math.min(60, columns - 40));
  const rate = (bytesPerHour: number | null) =>
    bytesPerHour === null ? 'no trend yet' : `${bytesPerHour >= 0 ? '+' : '-'}${formatBytes(Math.abs(bytesPerHour))}/h`;
  const series = (name: 'heapUsed' | 'external', label: string) => {
    const values = status.samples.map((s: MemorySample) => s[name]);
    const evidence = verdict.series[name];
    const latest = values.at(-1);
    const fit = evidence.rSquared === null ? '' : `, R² ${evidence.rSquared.toFixed(2)}`;
    return `${label.padEnd(10)}${c.cyan(sparkline(values, width))} ${latest === undefined ? '' : formatBytes(latest)} after GC, ${rate(evidence.slopeBytesPerHour)}${fit}  ${level(c, evidence.level)}`;
  };
  const forced =
    status.sampling === undefined
      ? ''
      : `; ${status.sampling.forcedGcs} GC${status.sampling.forcedGcs === 1 ? '' : 's'} forced (${status.sampling.forcedPauseMs} ms of pause)`;
  const next = nextStep(status, times.now);
  return [
    `${'verdict'.padEnd(10)}${level(c, verdict.verdict, verdict.verdict.toUpperCase())}  ${verdict.reason}`,
    series('heapUsed', 'heap'),
    series('external', 'external'),
    `${'evidence'.padEnd(10)}${formatCountOf(verdict.samplesUsed, 'sample')} over ${formatDuration(verdict.spanSeconds)} (${formatCountOf(verdict.bucketsFilled, 'bucket')}), ${formatDuration(verdict.warmupSeconds)} of warm-up dropped${forced}`,
    ...(next === null ? [] : [`${'next'.padEnd(10)}${next}`]),
    // A one-shot status watches nothing: its row says when the monitor last sampled.
    `${(times.watchingSince === null ? 'sampling' : 'watching').padEnd(10)}${liveness(status, times)}`,
  ].join('\n');
}

/** One line per sample, for a terminal that cannot redraw in place (no width, e.g. `script`, `ssh -tt`). */
export function renderLine(status: LeakStatus, c: ChalkInstance, times: WatchTimes): string {
  const last = status.samples.at(-1);
  const sizes = last === undefined ? 'no sample yet' : `heap ${formatBytes(last.heapUsed)}, external ${formatBytes(last.external)} after GC`;
  const next = nextStep(status, times.now);
  return `${new Date(times.now).toISOString().slice(11, 19)} ${level(c, status.verdict.verdict, status.verdict.verdict.toUpperCase())} ${sizes}; ${status.verdict.reason}${next === null ? '' : ` Next: ${next}`}`;
}

/** "last sample 4s ago; watching for 3m 6s": ticks between samples, so a quiet watch looks alive. */
export function liveness(status: LeakStatus, times: WatchTimes): string {
  const last = status.samples.at(-1);
  const ago =
    last === undefined ? 'no sample yet' : `last sample ${formatDuration(Math.max(0, (times.now - last.time) / 1000))} ago${last.forced ? ' (forced GC)' : ''}`;
  const watching =
    times.watchingSince === null
      ? `monitored for ${formatDuration((times.now - status.since) / 1000)}`
      : `watching for ${formatDuration((times.now - times.watchingSince) / 1000)}`;
  return `${ago}; ${watching}`;
}

/** What the verdict calls for: how long until there is one, or the command that finds what grows. */
export function nextStep(status: LeakStatus, now: number): string | null {
  const { verdict, sampling } = status;
  const earliest = verdict.suspectPossibleAt === undefined ? 0 : (verdict.suspectPossibleAt - now) / 1000;
  const suspectIn = earliest > 0 ? `a leak can be suspected in ${formatDuration(earliest)} at the earliest` : null;
  if (verdict.verdict === 'suspected') return `see what grows: ${DIFF_COMMAND}`;
  if (verdict.verdict === 'unknown') {
    const needed = verdict.samplesNeeded ?? 1;
    const gapSeconds = sampling?.maxGapMs == null ? null : sampling.maxGapMs / 1000;
    const refusal = sampling?.lastRefusal?.code === 'GC_PAUSE_TOO_LONG' ? "; GCs are not forced for a heap this large, so it waits for V8's own" : '';
    const pace = gapSeconds === null ? '' : `, about ${formatDuration(needed * gapSeconds)} at one per ${formatDuration(gapSeconds)}${refusal}`;
    return `warming up: ${needed} more post-GC sample${needed === 1 ? '' : 's'} before a verdict${pace}${suspectIn === null ? '' : `; ${suspectIn}`}`;
  }
  if (verdict.verdict === 'growing' && suspectIn !== null) return suspectIn;
  return null;
}

/** Why --gc forced no GC, and when one may be asked for again; null when it forced one. */
export function gcRefusalNote(request: GcRequestResult | undefined, now: number): string | null {
  if (request === undefined || request.forced || request.refusal === null) return null;
  const { message, retryAt } = request.refusal;
  const again =
    retryAt === null ? 'the endpoint will not force one while the heap is this large' : `ask again in ${formatDuration(Math.max(1, (retryAt - now) / 1000))}`;
  return `the endpoint did not force a GC: ${message}; ${again}. The verdict above is from the samples it had.`;
}
