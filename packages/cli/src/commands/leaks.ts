// opsctl leaks: does the process leak memory? The verdict and its evidence; --watch
// follows it live (redrawn in place on a terminal, NDJSON lines otherwise);
// --fail-on-leak exits 5 when the verdict is `suspected`.
import type { ChalkInstance } from 'chalk';
import type { LeakLevel, LeakStatus, LeakStreamLine, LeakVerdict, MemorySample } from '@opsctl/endpoint/protocol';
import { ndjsonLines } from '../client/ndjson.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { formatBytes, formatDuration } from '../ui/format.js';
import { sparkline } from '../ui/sparkline.js';

export interface LeaksOptions {
  watch: boolean;
  failOnLeak: boolean;
  /** Force a GC sample first. */
  gc: boolean;
}

// The endpoint sends a heartbeat every 15 s: three missed ones mean the stream is dead.
const STREAM_SILENCE_MS = 45_000;

export async function fetchLeakStatus(ctx: Context, gc = false): Promise<LeakStatus> {
  const client = await ctx.client();
  return client.json<LeakStatus>('/leaks', { query: { gc: gc || undefined } });
}

export async function runLeaks(opts: LeaksOptions, ctx: Context): Promise<LeakStatus> {
  if (opts.watch) return watch(opts, ctx);
  const status = await fetchLeakStatus(ctx, opts.gc);
  ctx.out.result(status, (s, c) => renderStatus(s, c, ctx.out.columns, ctx.now()));
  failIfSuspected(opts, status.verdict);
  return status;
}

function failIfSuspected(opts: LeaksOptions, verdict: LeakVerdict): void {
  if (opts.failOnLeak && verdict.verdict === 'suspected') throw new CliError('LEAK_SUSPECTED', `leak suspected: ${verdict.reason}`);
}

async function watch(opts: LeaksOptions, ctx: Context): Promise<LeakStatus> {
  const client = await ctx.client();
  const silence = new AbortController();
  const response = await client.request('/leaks/stream', { query: { gc: opts.gc || undefined }, stream: true, signal: silence.signal });
  const live = ctx.out.stdoutIsTTY && !ctx.out.json;
  let status = null as LeakStatus | null;
  let drawnLines = 0;
  const draw = () => {
    if (status === null) return;
    const frame = renderStatus(status, ctx.out.c, ctx.out.columns, ctx.now());
    // Move up over the previous frame and clear it: the frame redraws in place.
    ctx.out.data(`${drawnLines > 0 ? `\u001b[${drawnLines}A\u001b[J` : ''}${frame}\n`);
    drawnLines = screenRows(frame, ctx.out.columns);
  };
  let timer = setTimeout(() => silence.abort(), STREAM_SILENCE_MS);
  try {
    for await (const line of ndjsonLines<LeakStreamLine>(response.body)) {
      timer.refresh();
      if (!live) ctx.out.data(`${JSON.stringify(line)}\n`);
      if (line.type === 'status') status = line;
      else if (line.type === 'sample' && status !== null) {
        status = { ...status, verdict: line.verdict, samples: [...status.samples, line.sample].slice(-1000) };
      }
      if (live && line.type !== 'heartbeat') draw();
      if (status !== null) failIfSuspected(opts, status.verdict);
    }
  } catch (error) {
    // Ctrl-C ends a watch normally.
    if (ctx.signal.aborted) return status ?? (await fetchLeakStatus(ctx));
    if (silence.signal.aborted) throw new CliError('UNREACHABLE', `the leak stream from ${client.url.host} went silent for ${STREAM_SILENCE_MS / 1000} s`, { hint: 'the process may be stalled or gone; run: opsctl status' });
    throw client.explain(error);
  } finally {
    clearTimeout(timer);
  }
  if (ctx.signal.aborted) return status ?? (await fetchLeakStatus(ctx));
  throw client.connectionLost();
}

/** Rows a text takes on a terminal `columns` wide, long lines wrapping (escape codes take none). */
function screenRows(text: string, columns: number): number {
  return text.split('\n').reduce((rows, line) => rows + Math.max(1, Math.ceil(line.replace(/\u001b\[[0-9;]*m/g, '').length / columns)), 0);
}


const LEVEL_STYLE: Record<LeakLevel, (c: ChalkInstance, text: string) => string> = {
  ok: (c, t) => c.green(t),
  growing: (c, t) => c.yellow(t),
  suspected: (c, t) => c.bold.red(t),
};

/** The verdict, its evidence and the post-GC trend, in a few lines. */
export function renderStatus(status: LeakStatus, c: ChalkInstance, columns: number, now: number): string {
  const { verdict } = status;
  const width = Math.max(10, Math.min(60, columns - 40));
  const rate = (bytesPerHour: number | null) => (bytesPerHour === null ? 'no trend yet' : `${bytesPerHour >= 0 ? '+' : '-'}${formatBytes(Math.abs(bytesPerHour))}/h`);
  const series = (name: 'heapUsed' | 'external', label: string) => {
    const values = status.samples.map((s: MemorySample) => s[name]);
    const evidence = verdict.series[name];
    const latest = values.at(-1);
    const fit = evidence.rSquared === null ? '' : `, R² ${evidence.rSquared.toFixed(2)}`;
    return `${label.padEnd(10)}${c.cyan(sparkline(values, width))} ${latest === undefined ? '' : formatBytes(latest)} after GC, ${rate(evidence.slopeBytesPerHour)}${fit}  ${LEVEL_STYLE[evidence.level](c, evidence.level)}`;
  };
  const last = status.samples.at(-1);
  return [
    `${'verdict'.padEnd(10)}${LEVEL_STYLE[verdict.verdict](c, verdict.verdict.toUpperCase())}  ${verdict.reason}`,
    series('heapUsed', 'heap'),
    series('external', 'external'),
    `${'evidence'.padEnd(10)}${verdict.samplesUsed} samples over ${formatDuration(verdict.spanSeconds)} (${verdict.bucketsFilled} buckets), ${formatDuration(verdict.warmupSeconds)} of warm-up dropped; ${last ? `last GC ${formatDuration(Math.max(0, (now - last.time) / 1000))} ago` : 'no GC seen yet'}; watching since ${formatDuration((now - status.since) / 1000)}`,
  ].join('\n');
}
