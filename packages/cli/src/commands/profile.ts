// opsctl profile cpu|heap [--duration 30s] [--out PATH]: a CPU profile (.cpuprofile) or a
// sampling heap profile (.heapprofile) of the target process, taken in-process by its
// endpoint, written atomically, and checked before it appears under its name. Both open
// in Chrome DevTools. The endpoint caps the duration and runs one profile at a time.
import { INSTANCE_HEADER, PROFILE_SECONDS_HEADER, type ProfileKind } from '../endpoint/protocol.js';
import { saveJson } from '../client/download.js';
import type { Context } from '../context.js';
import { type Destination, suggestedName, withDestination } from '../files.js';
import { formatBytes, formatCountOf, formatDuration } from '../ui/format.js';

export interface ProfileOptions {
  kind: ProfileKind;
  /** How long to profile, in milliseconds (the endpoint takes whole seconds, 1 to 300). */
  durationMs: number;
  /** A file, or a directory; the current directory when absent. */
  out?: string;
  force: boolean;
  /** Sampling interval: milliseconds of CPU time for cpu, bytes allocated for heap; the endpoint's default when absent. */
  interval?: number;
}

export interface ProfileResult {
  kind: ProfileKind;
  path: string;
  bytes: number;
  seconds: number;
  /** Samples the profile holds. */
  samples: number;
  instance: string | null;
}

const LABELS: Record<ProfileKind, { what: string; extension: string; panel: string }> = {
  cpu: { what: 'the CPU profile', extension: '.cpuprofile', panel: 'Performance panel → Load profile…' },
  heap: { what: 'the heap profile', extension: '.heapprofile', panel: 'Memory panel → Load profile…' },
};
// The countdown ticks once a second.
const COUNTDOWN_TICK_MS = 1_000;

export async function runProfile(opts: ProfileOptions, ctx: Context): Promise<ProfileResult> {
  return withDestination({ ...opts, cwd: ctx.cwd }, (destination) => profileTo(destination, opts, ctx));
}

async function profileTo(destination: Destination, opts: ProfileOptions, ctx: Context): Promise<ProfileResult> {
  const label = LABELS[opts.kind];
  const client = await ctx.client();
  const spinner = await ctx.out.spinner(`starting ${label.what}…`);
  let countdown: NodeJS.Timeout | undefined;
  const interval = opts.interval === undefined ? undefined : opts.kind === 'cpu' ? Math.round(opts.interval * 1000) : opts.interval;
  try {
    const response = await client.request(`/profile/${opts.kind}`, {
      query: { seconds: Math.round(opts.durationMs / 1000), [opts.kind === 'cpu' ? 'intervalUs' : 'intervalBytes']: interval },
      stream: true,
    });
    const seconds = Number(response.headers[PROFILE_SECONDS_HEADER] ?? opts.durationMs / 1000);
    const ends = performance.now() + seconds * 1000;
    const tick = () => {
      const left = Math.max(0, Math.ceil((ends - performance.now()) / 1000));
      spinner.text(
        left > 0
          ? `profiling ${opts.kind === 'cpu' ? 'CPU' : 'allocations'} for ${formatDuration(seconds)}… ${formatDuration(left)} left (Ctrl-C stops it)`
          : `receiving ${label.what}…`,
      );
    };
    tick();
    countdown = setInterval(tick, COUNTDOWN_TICK_MS);
    const fallback = `profile-${Date.now()}${label.extension}`;
    const saved = await saveJson(response.body, {
      destination,
      force: opts.force,
      what: label.what,
      check: opts.kind === 'cpu' ? checkCpuProfile : checkHeapProfile,
      name: () => suggestedName(response.headers['content-disposition'], fallback),
      signal: ctx.signal,
      client,
      notice: (text) => ctx.out.info(text),
    });
    clearInterval(countdown);
    spinner.stop();
    const instance = response.headers[INSTANCE_HEADER];
    const result: ProfileResult = {
      kind: opts.kind,
      path: saved.path,
      bytes: saved.bytes,
      seconds,
      samples: Array.isArray(saved.document['samples']) ? saved.document['samples'].length : 0,
      instance: (Array.isArray(instance) ? instance[0] : instance) ?? null,
    };
    ctx.out.result(result, (r, c) =>
      [
        `${c.green('✔')} ${r.kind === 'cpu' ? 'CPU' : 'Heap'} profile written to ${c.bold(r.path)} (${formatBytes(r.bytes)}, ${formatCountOf(r.samples, 'sample')} over ${formatDuration(r.seconds)})`,
        `  open it in Chrome DevTools: ${label.panel}`,
      ].join('\n'),
    );
    return result;
  } finally {
    clearInterval(countdown);
    spinner.stop();
  }
}

/** A .cpuprofile (Profiler.Profile): nodes, start and end times. */
export function checkCpuProfile(profile: Record<string, unknown>): string | null {
  if (!Array.isArray(profile['nodes']) || profile['nodes'].length === 0) return 'it has no "nodes"';
  if (typeof profile['startTime'] !== 'number' || typeof profile['endTime'] !== 'number') return 'it has no "startTime" and "endTime"';
  return null;
}

/** A .heapprofile (HeapProfiler.SamplingHeapProfile): a root call-tree node. */
export function checkHeapProfile(profile: Record<string, unknown>): string | null {
  const head = profile['head'] as Record<string, unknown> | undefined;
  if (head === null || typeof head !== 'object' || !Array.isArray(head['children'])) return 'it has no "head" call tree';
  return null;
}
