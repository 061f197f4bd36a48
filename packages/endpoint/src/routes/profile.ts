// GET /profile/cpu and GET /profile/heap: a CPU profile (.cpuprofile) or a sampling heap
// profile (.heapprofile) of this process over `seconds`, both in Chrome DevTools' format.
//
//   seconds        1 to PROFILE_MAX_SECONDS (default 10); outside → 400 BAD_PARAM
//   intervalUs     cpu: sampling interval, 50 to 100,000 µs (default 1,000)
//   intervalBytes  heap: average bytes between samples, 512 to 1 MiB (default 32 KiB)
//
// One profile at a time (the `profile` gate: 429 + Retry-After). The response head is
// sent as soon as profiling starts, with the duration; while it runs, a space every 15 s
// (JSON allows leading whitespace) keeps proxies from timing the request out; then the
// profile. A client that goes away stops the profile and frees the session.
import type { ServerResponse } from 'node:http';
import { CPU_SAMPLING_INTERVAL_US, HEAP_SAMPLING_INTERVAL_BYTES, Profiler } from '../diagnostics/profiler.js';
import { PROFILE_SECONDS_HEADER, type ProfileKind } from '../protocol.js';
import { numberParam } from '../server/params.js';
import { sendError, setCommonHeaders } from '../server/replies.js';
import type { Route, RouteContext } from '../server/route.js';
import { snapshotFileName } from './heapdump.js';
import { HEARTBEAT_MS } from './leaks.js';

/** Five minutes: the request stays open meanwhile, and longer profiles make files DevTools opens slowly. */
export const PROFILE_MAX_SECONDS = 300;
export const PROFILE_DEFAULT_SECONDS = 10;

const INTERVALS: Record<ProfileKind, { name: string; fallback: number; min: number; max: number }> = {
  cpu: { name: 'intervalUs', fallback: CPU_SAMPLING_INTERVAL_US, min: 50, max: 100_000 },
  heap: { name: 'intervalBytes', fallback: HEAP_SAMPLING_INTERVAL_BYTES, min: 512, max: 1024 * 1024 },
};
const EXTENSIONS: Record<ProfileKind, string> = { cpu: '.cpuprofile', heap: '.heapprofile' };

function profileRoute(kind: ProfileKind): Route {
  return {
    name: `profile-${kind}`,
    method: 'GET',
    path: `/profile/${kind}`,
    scope: 'profile',
    gate: 'profile',
    handle: (_req, res, ctx) => runProfile(kind, res, ctx),
  };
}

export const profileCpu = profileRoute('cpu');
export const profileHeap = profileRoute('heap');

async function runProfile(kind: ProfileKind, res: ServerResponse, ctx: RouteContext): Promise<void> {
  const seconds = numberParam(ctx.query, 'seconds', PROFILE_DEFAULT_SECONDS, 1, PROFILE_MAX_SECONDS);
  if (seconds instanceof Error) return sendError(res, 'BAD_PARAM', { message: seconds.message, details: { param: 'seconds', max: PROFILE_MAX_SECONDS } });
  const spec = INTERVALS[kind];
  const interval = numberParam(ctx.query, spec.name, spec.fallback, spec.min, spec.max);
  if (interval instanceof Error) return sendError(res, 'BAD_PARAM', { message: interval.message, details: { param: spec.name } });
  ctx.auditDetail['seconds'] = seconds;
  ctx.auditDetail[spec.name] = Math.round(interval);

  const profiler = await Profiler.start(kind, Math.round(interval));
  if (profiler instanceof Error) return sendError(res, 'FEATURE_DISABLED', { message: profiler.message });
  try {
    if (ctx.signal.aborted) return;
    setCommonHeaders(res);
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-disposition': `attachment; filename="${snapshotFileName(ctx.options.app.name).replace(/\.heapsnapshot$/, EXTENSIONS[kind])}"`,
      [PROFILE_SECONDS_HEADER]: seconds,
    });
    res.flushHeaders();
    const heartbeat = setInterval(() => res.write(' '), HEARTBEAT_MS);
    const completed = await sleep(seconds * 1000, ctx.signal);
    clearInterval(heartbeat);
    if (!completed) return; // the client went away or the endpoint is closing
    const json = JSON.stringify(await profiler.stop());
    ctx.auditDetail['profileBytes'] = Buffer.byteLength(json);
    res.end(json);
  } finally {
    profiler.close();
  }
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', stop);
      resolve(true);
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', stop, { once: true });
  });
}
