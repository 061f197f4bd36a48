// opsctl leaks: does the process leak memory? The verdict and its evidence; --watch
// follows it live: redrawn in place on a terminal, ticking between samples so a quiet
// watch looks alive; one plain line per sample on a terminal that reports no width
// (redrawing there corrupts the screen); NDJSON lines when stdout is not a terminal.
// --fail-on-leak exits 5 when the verdict is `suspected`, naming the next step.
import type { LeakStatus, LeakStreamLine, LeakVerdict } from '../endpoint/protocol.js';
import { ndjsonLines } from '../client/ndjson.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { fetchLeakStatus } from '../operations/leak-status.js';
import { DIFF_COMMAND, gcRefusalNote, liveness, renderLine, renderStatus } from '../ui/leak-report.js';
import { InPlaceFrame } from '../ui/redraw.js';

export interface LeaksOptions {
  watch: boolean;
  failOnLeak: boolean;
  /** Force a GC sample first. */
  gc: boolean;
}

// The endpoint sends a heartbeat every 15 s: three missed ones mean the stream is dead.
const STREAM_SILENCE_MS = 45_000;
// How often a redrawn watch ticks ("last sample 4s ago") between samples.
const TICK_MS = 1_000;

export async function runLeaks(opts: LeaksOptions, ctx: Context): Promise<LeakStatus> {
  if (opts.watch) return watch(opts, ctx);
  const status = await fetchLeakStatus(ctx, opts.gc);
  const now = status.time ?? ctx.now();
  ctx.out.result(status, (s, c) => renderStatus(s, c, ctx.out.columns, { now, watchingSince: null }));
  const refused = gcRefusalNote(status.gcRequest, now);
  if (refused !== null && !ctx.out.json) ctx.out.warn(refused);
  failIfSuspected(opts, status.verdict);
  return status;
}

function failIfSuspected(opts: LeaksOptions, verdict: LeakVerdict): void {
  if (opts.failOnLeak && verdict.verdict === 'suspected')
    throw new CliError('LEAK_SUSPECTED', `leak suspected: ${verdict.reason}`, { hint: `see what grows: ${DIFF_COMMAND}` });
}

/** The endpoint's clock as seen from here: the newest time it sent, plus the time elapsed here since. */
class EndpointClock {
  #offset = 0;
  readonly #local: () => number;

  constructor(local: () => number) {
    this.#local = local;
  }

  heard(endpointTime: number | undefined): void {
    if (endpointTime !== undefined) this.#offset = endpointTime - this.#local();
  }

  now(): number {
    return this.#local() + this.#offset;
  }
}

type WatchMode = 'redraw' | 'lines' | 'ndjson';

async function watch(opts: LeaksOptions, ctx: Context): Promise<LeakStatus> {
  const client = await ctx.client();
  const silence = new AbortController();
  const response = await client.request('/leaks/stream', { query: { gc: opts.gc || undefined }, stream: true, signal: silence.signal });
  const mode: WatchMode = ctx.out.json || !ctx.out.stdoutIsTTY ? 'ndjson' : ctx.out.redrawsStdout ? 'redraw' : 'lines';
  const clock = new EndpointClock(ctx.now);
  let watchingSince: number | null = null;
  let status = null as LeakStatus | null;
  const screen = new InPlaceFrame(() => ctx.out.columns);
  let toldSuspected = false;
  const times = () => ({ now: clock.now(), watchingSince });
  const draw = () => {
    if (status === null) return;
    ctx.out.data(screen.next(renderStatus(status, ctx.out.c, ctx.out.columns, times())));
  };
  const ticker = mode === 'redraw' ? setInterval(draw, TICK_MS) : null;
  const timer = setTimeout(() => silence.abort(), STREAM_SILENCE_MS);
  try {
    for await (const line of ndjsonLines<LeakStreamLine>(response.body)) {
      timer.refresh();
      clock.heard(line.type === 'status' ? line.time : line.type === 'sample' ? line.sample.time : line.time);
      watchingSince ??= clock.now();
      if (mode === 'ndjson') ctx.out.data(`${JSON.stringify(line)}\n`);
      if (line.type === 'status') {
        status = line;
        const refused = gcRefusalNote(line.gcRequest, clock.now());
        if (refused !== null && !ctx.out.json) ctx.out.warn(refused);
      } else if (line.type === 'sample' && status !== null) {
        // The GC counts move with every sample; an endpoint without `sampling` on samples leaves the status line's.
        status = { ...status, verdict: line.verdict, samples: [...status.samples, line.sample].slice(-1000), sampling: line.sampling ?? status.sampling };
      }
      if (status === null) continue;
      if (mode === 'redraw' && line.type !== 'heartbeat') draw();
      if (mode === 'lines')
        ctx.out.data(
          `${line.type === 'heartbeat' ? `${new Date(clock.now()).toISOString().slice(11, 19)} still watching: ${liveness(status, times())}` : renderLine(status, ctx.out.c, times())}\n`,
        );
      failIfSuspected(opts, status.verdict);
      if (mode === 'ndjson' && !ctx.out.json && status.verdict.verdict === 'suspected' && !toldSuspected) {
        toldSuspected = true;
        ctx.out.info(`leak suspected; see what grows: ${DIFF_COMMAND}`);
      }
    }
  } catch (error) {
    // Ctrl-C ends a watch normally.
    if (ctx.signal.aborted) return status ?? (await fetchLeakStatus(ctx));
    if (silence.signal.aborted)
      throw new CliError('UNREACHABLE', `the leak stream from ${client.url.host} went silent for ${STREAM_SILENCE_MS / 1000} s`, {
        hint: 'the process may be stalled or gone; run: opsctl status',
      });
    throw client.explain(error);
  } finally {
    clearTimeout(timer);
    if (ticker !== null) clearInterval(ticker);
  }
  if (ctx.signal.aborted) return status ?? (await fetchLeakStatus(ctx));
  throw client.connectionLost();
}
