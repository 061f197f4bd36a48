// GET /profile/cpu and GET /profile/heap: a CPU profile (.cpuprofile) or a sampling heap
// profile (.heapprofile) of the main thread over `seconds`, both in Chrome DevTools' format.
//
//   seconds        1 to PROFILE_MAX_SECONDS (default 10); outside → 400 BAD_PARAM
//   intervalUs     cpu: sampling interval, 50 to 100,000 µs (default 1,000)
//   intervalBytes  heap: average bytes between samples, 512 to 1 MiB (default 32 KiB)
//
// One profile at a time (the gate: 429 + Retry-After). The response head is sent as
// soon as profiling starts, with the duration; while it runs, a space every 15 s (JSON
// allows leading whitespace) keeps proxies from timing the request out; then the
// profile. A client that goes away stops the profile and frees the session.
import { CPU_SAMPLING_INTERVAL_US, HEAP_SAMPLING_INTERVAL_BYTES } from '../diagnostics/profiler.js';
import type { Host } from '../host/host.js';
import { instanceFileName } from '../instance.js';
import { PROFILE_SECONDS_HEADER, type ProfileKind } from '../protocol/index.js';
import { Gate } from '../gate.js';
import { HEARTBEAT_MS } from '../server/ndjson.js';
import { numberParam } from '../server/params.js';
import { sendError, setCommonHeaders } from '../server/replies.js';
import type { Route } from '../server/route.js';

/** Five minutes: the request stays open meanwhile, and longer profiles make files DevTools opens slowly. */
const PROFILE_MAX_SECONDS = 300;
const PROFILE_DEFAULT_SECONDS = 10;
// Profiles run 10 s by default: about when the running one ends.
const PROFILE_RETRY_AFTER_S = 10;

const INTERVALS: Record<ProfileKind, { name: string; fallback: number; min: number; max: number }> = {
  cpu: { name: 'intervalUs', fallback: CPU_SAMPLING_INTERVAL_US, min: 50, max: 100_000 },
  heap: { name: 'intervalBytes', fallback: HEAP_SAMPLING_INTERVAL_BYTES, min: 512, max: 1024 * 1024 },
};
const EXTENSIONS: Record<ProfileKind, string> = { cpu: '.cpuprofile', heap: '.heapprofile' };

export function profileRoutes(host: Host): Route[] {
  // One profile at a time: the heap sampler is one per process, and two CPU profiles cost twice.
  const gate = new Gate({ max: 1, retryAfterSeconds: PROFILE_RETRY_AFTER_S, busyMessage: 'A profile is already running; one at a time.' });
  return (['cpu', 'heap'] as const).map(
    (kind): Route => ({
      name: `profile-${kind}`,
      method: 'GET',
      path: `/profile/${kind}`,
      scope: 'profile',
      gate,
      async handle(_req, res, ctx) {
        const seconds = numberParam(ctx.query, 'seconds', PROFILE_DEFAULT_SECONDS, 1, PROFILE_MAX_SECONDS);
        if (seconds instanceof Error) return sendError(res, 'BAD_PARAM', { message: seconds.message, details: { param: 'seconds', max: PROFILE_MAX_SECONDS } });
        const spec = INTERVALS[kind];
        const interval = numberParam(ctx.query, spec.name, spec.fallback, spec.min, spec.max);
        if (interval instanceof Error) return sendError(res, 'BAD_PARAM', { message: interval.message, details: { param: spec.name } });
        ctx.auditDetail['seconds'] = seconds;
        ctx.auditDetail[spec.name] = Math.round(interval);

        const started = await host.startProfile(kind, Math.round(interval));
        if ('unavailable' in started) return sendError(res, 'FEATURE_DISABLED', { message: started.unavailable });
        let stopped = false;
        try {
          if (ctx.signal.aborted) return;
          setCommonHeaders(res);
          res.writeHead(200, {
            'content-type': 'application/json',
            'content-disposition': `attachment; filename="${instanceFileName(ctx.config.app.name, EXTENSIONS[kind])}"`,
            [PROFILE_SECONDS_HEADER]: seconds,
          });
          res.flushHeaders();
          const heartbeat = setInterval(() => res.write(' '), HEARTBEAT_MS);
          const completed = await sleep(seconds * 1000, ctx.signal);
          clearInterval(heartbeat);
          if (!completed) return; // the client went away or the endpoint is closing
          stopped = true;
          const json = await host.stopProfile(started.id);
          ctx.auditDetail['profileBytes'] = json.byteLength;
          res.end(json);
        } finally {
          if (!stopped) await host.cancelProfile(started.id).catch(() => {});
        }
      },
    }),
  );
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
