// GET /leaks: the leak verdict with its evidence and the post-GC samples behind it.
// GET /leaks/stream: the same live, as NDJSON: a status line, then one line per GC
// sample with the verdict after it, and a heartbeat while nothing happens; it ends when
// the client goes away (no listener or timer is left) or the endpoint closes.
// Both take gc=true to ask for a GC sample first: the answer's `gcRequest` says whether a
// GC was forced, or why not and when to ask again (the sampler's limits: one per 5 s, a
// pause cap, a share of wall time).
import type { Host } from '../host/host.js';
import type { LeakStreamLine } from '../protocol/index.js';
import { HEARTBEAT_MS, startNdjson } from '../server/ndjson.js';
import { booleanParam, numberParam } from '../server/params.js';
import { sendError, sendJson } from '../server/replies.js';
import { disabledRoute, notEnabled, type Route } from '../server/route.js';

const FEATURE = 'leak detection';

export function leakRoutes(host: Host, enabled: boolean): Route[] {
  const status = { name: 'leaks', method: 'GET', path: '/leaks', scope: 'read' } as const;
  const stream = { name: 'leaks-stream', method: 'GET', path: '/leaks/stream', scope: 'read' } as const;
  if (!enabled) return [disabledRoute(status, notEnabled(FEATURE)), disabledRoute(stream, notEnabled(FEATURE))];
  return [
    {
      ...status,
      async handle(_req, res, ctx) {
        const gc = booleanParam(ctx.query, 'gc');
        if (gc instanceof Error) return sendError(res, 'BAD_PARAM', { message: gc.message });
        sendJson(res, 200, await host.leakStatus(gc));
      },
    },
    {
      ...stream,
      async handle(_req, res, ctx) {
        const gc = booleanParam(ctx.query, 'gc');
        if (gc instanceof Error) return sendError(res, 'BAD_PARAM', { message: gc.message });
        const heartbeatMs = numberParam(ctx.query, 'heartbeatMs', HEARTBEAT_MS, 100, 300_000);
        if (heartbeatMs instanceof Error) return sendError(res, 'BAD_PARAM', { message: heartbeatMs.message });
        // Subscribed before the status is read, so that the status counts this watcher;
        // events that come first wait for the status line.
        let events = 0;
        const early: LeakStreamLine[] = [];
        let send: (line: LeakStreamLine) => void = (line) => early.push(line);
        const watching = host.watchLeaks((event) => {
          events++;
          send(event);
        }, ctx.signal);
        watching.catch(() => {}); // a refusal reaches the caller through the status below
        const first = await host.leakStatus(gc);
        const out = startNdjson(res, ctx.signal, heartbeatMs);
        out.onEnd(() => (ctx.auditDetail['events'] = events));
        out.send({ type: 'status', ...first } satisfies LeakStreamLine);
        for (const line of early) out.send(line);
        send = (line) => out.send(line);
        await watching;
      },
    },
  ];
}
