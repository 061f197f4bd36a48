// GET /leaks: the leak verdict with its evidence and the post-GC samples behind it.
// GET /leaks/stream: the same live, as NDJSON: a status line, then one line per GC
// sample with the verdict after it, and a heartbeat while nothing happens; it ends when
// the client goes away (no listener or timer is left) or the endpoint closes.
// Both take gc=true to ask for a GC sample first: the answer's `gcRequest` says whether a
// GC was forced, or why not and when to ask again (the sampler's limits: one per 5 s, a
// pause cap, a share of wall time).
import type { LeakStreamLine } from '../protocol.js';
import { booleanParam, numberParam } from '../server/params.js';
import { sendError, sendJson, setCommonHeaders } from '../server/replies.js';
import type { Route } from '../server/route.js';

/** Often enough for proxies and clients to see a live stream, rarely enough to cost nothing. */
export const HEARTBEAT_MS = 15_000;
/** Unsent stream data kept for a slow client; past it, lines are dropped (about 100 samples). */
const STREAM_BUFFER_BYTES = 256 * 1024;

export const leaks: Route = {
  name: 'leaks',
  method: 'GET',
  path: '/leaks',
  scope: 'read',
  enabled: (options) => options.leaks !== null,
  feature: 'leak detection',
  handle(_req, res, ctx) {
    const gc = booleanParam(ctx.query, 'gc');
    if (gc instanceof Error) return sendError(res, 'BAD_PARAM', { message: gc.message });
    const monitor = ctx.leakMonitor;
    if (monitor === null) return;
    sendJson(res, 200, monitor.status(gc));
  },
};

export const leaksStream: Route = {
  name: 'leaks-stream',
  method: 'GET',
  path: '/leaks/stream',
  scope: 'read',
  enabled: (options) => options.leaks !== null,
  feature: 'leak detection',
  handle(_req, res, ctx) {
    const gc = booleanParam(ctx.query, 'gc');
    if (gc instanceof Error) return sendError(res, 'BAD_PARAM', { message: gc.message });
    const heartbeatMs = numberParam(ctx.query, 'heartbeatMs', HEARTBEAT_MS, 100, 300_000);
    if (heartbeatMs instanceof Error) return sendError(res, 'BAD_PARAM', { message: heartbeatMs.message });
    const monitor = ctx.leakMonitor;
    if (monitor === null) return;

    setCommonHeaders(res);
    res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'x-accel-buffering': 'no' });
    // A client that stops reading gets no more lines until it catches up: the stream's
    // memory stays bounded whatever it does.
    const send = (line: LeakStreamLine) => {
      if (res.writableLength < STREAM_BUFFER_BYTES) res.write(`${JSON.stringify(line)}\n`);
    };
    let events = 0;
    const unsubscribe = monitor.subscribe((event) => {
      events++;
      send(event);
    });
    send({ type: 'status', ...monitor.status(gc) });
    const heartbeat = setInterval(() => send({ type: 'heartbeat', time: Date.now() }), heartbeatMs);
    heartbeat.unref();
    const stop = () => {
      unsubscribe();
      clearInterval(heartbeat);
      ctx.auditDetail['events'] = events;
      if (!res.writableEnded) res.end();
    };
    // The client went away, or the endpoint is closing.
    ctx.signal.addEventListener('abort', stop, { once: true });
  },
};
