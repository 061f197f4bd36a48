// The main thread as the endpoint's own thread sees it (server on its own port only):
//
//   GET /stack           its JavaScript stack now, taken through the inspector, with how
//                        long its event loop has been blocked (scope profile: a stack
//                        shows code paths, not data)
//   GET /blocks          the blocks the watchdog recorded (longer than its threshold),
//                        each with its duration and the stack taken while it lasted
//   GET /blocks/stream   the same live, as NDJSON: a status line, one line per block
//                        as it ends, heartbeats
//
// Mounted in the application's server, the endpoint shares the main thread and cannot
// watch it: these answer 404 FEATURE_DISABLED, saying so.
import type { BlocksResponse, BlocksStreamLine, MainThreadStatus, StackResponse } from '../protocol/index.js';
import { HEARTBEAT_MS, startNdjson } from '../server/ndjson.js';
import { numberParam } from '../server/params.js';
import { sendError, sendJson } from '../server/replies.js';
import { disabledRoute, type Route, type Unavailable } from '../server/route.js';
import { BLOCKED_THRESHOLD_MS } from '../options.js';
import { BEAT_MS } from '../thread/main-thread-state.js';
import type { ThreadWatch } from '../thread/watch.js';

const MOUNTED: Unavailable = {
  message:
    "The endpoint is mounted in the application's server, on its main thread, so it cannot watch that thread: this needs the endpoint on a port of its own (ops.listen()), where it runs on a thread of its own.",
  fix: 'start the endpoint on its own port with ops.listen() instead of mounting ops.handler',
};
const WATCHDOG_OFF: Unavailable = {
  message: 'The application turned the blocked-loop watchdog off (watchdog: false in its endpoint options).',
  fix: "remove watchdog: false from the application's endpoint options",
};
/** A loop this late is running something long now: its stack is worth taking. */
const BUSY_AFTER_MS = 3 * BEAT_MS;

/** The main thread's status for /info and the watchdog's answers; `watch` is null when mounted. */
export function mainThreadStatus(watch: ThreadWatch | null): MainThreadStatus {
  if (watch === null) return { watched: false, blocked: false, blockedForMs: 0, lagMs: 0, stack: null, stackNote: null, snapshot: null };
  const lagMs = Math.round(watch.state.sinceLastBeatMs());
  const current = watch.watchdog?.current() ?? null;
  // Without the watchdog, a loop as late as its default threshold is blocked all the same.
  const blocked = watch.watchdog === null ? lagMs >= BLOCKED_THRESHOLD_MS : current !== null;
  return {
    watched: true,
    blocked,
    blockedForMs: watch.watchdog === null ? (blocked ? lagMs : 0) : (current?.blockedForMs ?? 0),
    lagMs,
    stack: current?.stack ?? null,
    stackNote: current === null ? null : current.stack === null ? current.stackNote : null,
    snapshot: watch.state.snapshot(),
  };
}

export function threadRoutes(watch: ThreadWatch | null): Route[] {
  const stack = { name: 'stack', method: 'GET', path: '/stack', scope: 'profile' } as const;
  const blocks = { name: 'blocks', method: 'GET', path: '/blocks', scope: 'profile' } as const;
  const stream = { name: 'blocks-stream', method: 'GET', path: '/blocks/stream', scope: 'profile' } as const;
  if (watch === null) return [disabledRoute(stack, MOUNTED), disabledRoute(blocks, MOUNTED), disabledRoute(stream, MOUNTED)];
  const { watchdog } = watch;
  const stackRoute: Route = {
    ...stack,
    async handle(_req, res, ctx) {
      const status = mainThreadStatus(watch);
      if (status.snapshot === null && status.lagMs >= BUSY_AFTER_MS) {
        const taken = await watch.stacks.take();
        // The stack is fresh: the status around it too.
        const after = mainThreadStatus(watch);
        Object.assign(status, {
          blocked: after.blocked,
          blockedForMs: after.blockedForMs,
          lagMs: after.lagMs,
          stack: taken.frames,
          stackNote: taken.frames === null ? taken.reason : null,
        });
      } else if (status.snapshot !== null) {
        status.stackNote = 'the main thread is writing a heap snapshot for the endpoint';
      } else {
        status.stackNote = `the event loop is not blocked (it turned ${status.lagMs} ms ago): no JavaScript runs long enough to show; opsctl profile cpu shows where time goes`;
      }
      ctx.auditDetail['blockedForMs'] = status.blockedForMs;
      const body: StackResponse = { mainThread: status };
      sendJson(res, 200, body);
    },
  };
  if (watchdog === null) return [stackRoute, disabledRoute(blocks, WATCHDOG_OFF), disabledRoute(stream, WATCHDOG_OFF)];
  const blocksNow = (): BlocksResponse => ({ thresholdMs: watchdog.thresholdMs, blocks: watchdog.recent(), mainThread: mainThreadStatus(watch) });
  return [
    stackRoute,
    { ...blocks, handle: (_req, res) => sendJson(res, 200, blocksNow()) },
    {
      ...stream,
      handle(_req, res, ctx) {
        const heartbeatMs = numberParam(ctx.query, 'heartbeatMs', HEARTBEAT_MS, 100, 300_000);
        if (heartbeatMs instanceof Error) return sendError(res, 'BAD_PARAM', { message: heartbeatMs.message });
        const out = startNdjson(res, ctx.signal, heartbeatMs);
        out.send({ type: 'status', ...blocksNow() } satisfies BlocksStreamLine);
        out.onEnd(watchdog.subscribe((block) => out.send({ type: 'block', block } satisfies BlocksStreamLine)));
      },
    },
  ];
}
