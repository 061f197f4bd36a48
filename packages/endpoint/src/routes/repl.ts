// GET /repl: without an Upgrade header, the REPL's status (how a client learns of a
// refusal before upgrading, since a failed upgrade tells it little); with
// `Upgrade: opsctl-repl`, an interactive session on the socket. Authentication, the
// repl scope and the session limit are checked before the upgrade is accepted.
//
// POST /eval: one-shot evaluation for `opsctl repl -e` and CI, with a JSON answer (see
// repl/evaluate-once.ts). The time limit is the application's repl.evalTimeoutMs; a caller
// may ask for less, never more. At most as many run at once as REPL sessions may.
//
// The session and the evaluation run on the main thread, in the application's context
// (the Host); on the endpoint's own port the session's bytes cross between threads.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Host } from '../host/host.js';
import { REPL_PROTOCOL, TERMINAL_HEADER, type EvalRequest, type ReplStatus } from '../protocol/index.js';
import { promptFor } from '../repl/prompt.js';
import { readJsonBody } from '../server/body.js';
import type { ServerConfig } from '../server/config.js';
import { Gate } from '../gate.js';
import { closeSocket, commonHeaderLines, rawErrorResponse, sendError, sendJson } from '../server/replies.js';
import { disabledRoute, notEnabled, type Route, type RouteContext } from '../server/route.js';

const FEATURE = 'the REPL';
// REPL sessions last minutes; a refused one should not retry in a tight loop.
const REPL_RETRY_AFTER_S = 60;

export function replRoutes(host: Host, config: ServerConfig): Route[] {
  const session = { name: 'repl', method: 'GET', path: '/repl', scope: 'repl' } as const;
  const once = { name: 'eval', method: 'POST', path: '/eval', scope: 'repl' } as const;
  const repl = config.repl;
  if (repl === null) return [disabledRoute(session, notEnabled(FEATURE)), disabledRoute(once, notEnabled(FEATURE))];
  // Who holds the sessions, so that a refused operator knows whom to ask.
  const holders = new Set<{ token: string; since: Date }>();
  const sessions = new Gate({
    max: repl.maxSessions,
    retryAfterSeconds: REPL_RETRY_AFTER_S,
    busyMessage: () =>
      `All ${repl.maxSessions} REPL sessions are in use${holders.size === 0 ? '' : `: ${[...holders].map((h) => `${h.token} since ${h.since.toISOString().slice(11, 16)} UTC`).join(', ')}`}.`,
  });
  // Each evaluation may hold the event loop for up to evalTimeoutMs: no more of them at
  // once than the application allows REPL sessions.
  const evaluations = new Gate({
    max: repl.maxSessions,
    retryAfterSeconds: Math.ceil(repl.evalTimeoutMs / 1000),
    busyMessage: `${repl.maxSessions} evaluations are already running; the application allows no more at once.`,
  });
  const prompt = promptFor(config.app.name);
  return [
    {
      ...session,
      gate: sessions,
      async handle(_req, res, ctx) {
        // The client asks here before upgrading: tell it now what the upgrade would answer.
        const unavailable = await host.replUnavailable();
        if (unavailable !== null) {
          ctx.auditDetail['error'] = unavailable;
          return sendError(res, 'INTERNAL', { message: unavailable });
        }
        const body: ReplStatus = {
          // This request holds one place in the gate while it runs.
          sessions: Math.max(0, sessions.active - 1),
          maxSessions: repl.maxSessions,
          evalTimeoutMs: repl.evalTimeoutMs,
          idleTimeoutMs: repl.idleTimeoutMs,
          prompt,
        };
        sendJson(res, 200, body);
      },
      async upgrade(req, socket, head, ctx) {
        const holder = { token: ctx.token?.name ?? 'anonymous', since: new Date() };
        holders.add(holder);
        try {
          await openSession(host, req, socket, head, ctx);
        } finally {
          holders.delete(holder);
        }
      },
    },
    {
      ...once,
      gate: evaluations,
      async handle(req, res, ctx) {
        const body = await readJsonBody(req, ctx.config.limits.maxBodyBytes);
        if (!body.ok) {
          res.setHeader('connection', 'close');
          return sendError(res, body.code, { message: body.message });
        }
        const request = body.value as Partial<EvalRequest> | null;
        if (typeof request?.code !== 'string' || request.code.trim() === '') {
          return sendError(res, 'BAD_PARAM', { message: 'The body must be { "code": "<JavaScript>" } with non-empty code.' });
        }
        // The application's limit is the most a caller gets: a token holder must not be able to
        // freeze the process for longer than its owner allowed.
        const max = repl.evalTimeoutMs;
        const timeoutMs = request.timeoutMs ?? max;
        if (!Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > max) {
          return sendError(res, 'BAD_PARAM', {
            message: `The parameter timeoutMs must be an integer from 1 to ${max}, the application's limit (repl.evalTimeoutMs); leave it out for ${max}.`,
            details: { param: 'timeoutMs', max },
          });
        }
        const { code } = request;
        ctx.auditDetail['code'] = code.length > 2000 ? `${code.slice(0, 2000)}…` : code;
        const unavailable = await host.replUnavailable();
        if (unavailable !== null) {
          ctx.auditDetail['error'] = unavailable;
          return sendError(res, 'INTERNAL', { message: unavailable });
        }
        const evaluation = await host.evaluate(code, timeoutMs, ctx.caller);
        ctx.auditDetail['outcome'] = evaluation.outcome;
        if (evaluation.uncaught > 0) ctx.auditDetail['uncaught'] = evaluation.uncaught;
        sendJson(res, 200, evaluation.answer);
      },
    },
  ];
}

async function openSession(host: Host, req: IncomingMessage, socket: Duplex, head: Buffer, ctx: RouteContext): Promise<void> {
  if (req.headers.upgrade?.toLowerCase() !== REPL_PROTOCOL) {
    ctx.upgradeStatus = 400;
    closeSocket(socket, rawErrorResponse('BAD_REQUEST', { message: `Upgrade to "${REPL_PROTOCOL}" to open a REPL session.` }));
    return;
  }
  const terminal = parseTerminal(req.headers[TERMINAL_HEADER]);
  // Still before the 101: the client gets a refusal it can read.
  const unavailable = await host.replUnavailable();
  if (unavailable !== null) {
    ctx.auditDetail['error'] = unavailable;
    ctx.upgradeStatus = 500;
    closeSocket(socket, rawErrorResponse('INTERNAL', { message: unavailable }));
    return;
  }
  // The client may have gone, or the endpoint begun closing, meanwhile.
  if (socket.destroyed || ctx.signal.aborted) {
    socket.destroy();
    return;
  }
  socket.write(['HTTP/1.1 101 Switching Protocols', `upgrade: ${REPL_PROTOCOL}`, 'connection: Upgrade', ...commonHeaderLines(), '', ''].join('\r\n'));
  if (head.length > 0) socket.unshift(head);
  (socket as Socket).setNoDelay?.(true);
  ctx.auditDetail['terminal'] = terminal.tty;
  const opened = performance.now();
  try {
    const { lines } = await host.runRepl(socket, { terminal: terminal.tty, columns: terminal.columns, rows: terminal.rows, caller: ctx.caller }, ctx.signal);
    ctx.auditDetail['lines'] = lines;
  } finally {
    ctx.auditDetail['sessionMs'] = Math.round(performance.now() - opened);
  }
}

/** `tty=1; cols=120; rows=40` → terminal settings; anything missing or odd falls back to a plain 80x24 stream. */
function parseTerminal(header: string | string[] | undefined): { tty: boolean; columns: number; rows: number } {
  const fields = new Map(
    String(header ?? '')
      .split(';')
      .map((part) => part.trim().split('=') as [string, string]),
  );
  const size = (value: string | undefined, fallback: number) => {
    const n = Number(value);
    return Number.isInteger(n) && n >= 10 && n <= 1000 ? n : fallback;
  };
  return { tty: fields.get('tty') === '1', columns: size(fields.get('cols'), 80), rows: size(fields.get('rows'), 24) };
}
