// GET /repl: without an Upgrade header, the REPL's status (how a client learns of a
// refusal before upgrading, since a failed upgrade tells it little); with
// `Upgrade: opsctl-repl`, an interactive session on the socket. Authentication, the
// repl scope and the session limit are checked before the upgrade is accepted.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { inspect } from 'node:util';
import { instanceIdentity } from '../instance.js';
import type { ResolvedOptions } from '../options.js';
import { REPL_PROTOCOL, TERMINAL_HEADER, type ReplStatus } from '../protocol.js';
import { describeError } from '../repl/containment.js';
import { isReplUnavailable, loadRepl, replUnavailableReason, type ReplRuntime } from '../repl/load.js';
import { startSession } from '../repl/session.js';
import { closeSocket, commonHeaderLines, rawErrorResponse, sendError, sendJson } from '../server/replies.js';
import type { Route, RouteContext } from '../server/route.js';

export const replRoute: Route = {
  name: 'repl',
  method: 'GET',
  path: '/repl',
  scope: 'repl',
  gate: 'repl',
  enabled: (options) => options.repl !== null,
  feature: 'the REPL',
  handle(_req, res, ctx) {
    const repl = ctx.options.repl;
    if (repl === null) return;
    // The client asks here before upgrading: tell it now what the upgrade would answer.
    const unavailable = replUnavailableReason();
    if (unavailable !== null) {
      ctx.auditDetail['error'] = unavailable;
      return sendError(res, 'INTERNAL', { message: unavailable });
    }
    const body: ReplStatus = {
      // This request holds one place in the gate while it runs.
      sessions: Math.max(0, (ctx.gate?.active ?? 1) - 1),
      maxSessions: repl.maxSessions,
      evalTimeoutMs: repl.evalTimeoutMs,
      idleTimeoutMs: repl.idleTimeoutMs,
      prompt: promptFor(ctx.options.app.name),
    };
    sendJson(res, 200, body);
  },
  upgrade(req, socket, head, ctx) {
    const repl = ctx.options.repl;
    if (repl === null) return;
    if (req.headers.upgrade?.toLowerCase() !== REPL_PROTOCOL) {
      ctx.upgradeStatus = 400;
      closeSocket(socket, rawErrorResponse('BAD_REQUEST', { message: `Upgrade to "${REPL_PROTOCOL}" to open a REPL session.` }));
      return;
    }
    // Upgrades are synchronous and node:repl loads asynchronously: whatever fails while
    // the session starts ends here, with the socket, and nothing escapes to the process.
    openSession(req, socket as Socket, head, ctx, repl).catch((error: unknown) => {
      ctx.auditDetail['error'] = error instanceof Error ? error.message : String(error);
      socket.destroy();
    });
  },
};

async function openSession(req: IncomingMessage, socket: Socket, head: Buffer, ctx: RouteContext, repl: NonNullable<ResolvedOptions['repl']>): Promise<void> {
  const terminal = parseTerminal(req.headers[TERMINAL_HEADER]);
  let runtime: ReplRuntime;
  try {
    runtime = await loadRepl();
  } catch (error) {
    if (!isReplUnavailable(error)) throw error;
    // Still before the 101: the client gets a refusal it can read.
    ctx.auditDetail['error'] = error.message;
    ctx.upgradeStatus = 500;
    closeSocket(socket, rawErrorResponse('INTERNAL', { message: error.message }));
    return;
  }
  // The client may have gone, or the endpoint begun closing, while node:repl loaded.
  if (socket.destroyed || ctx.signal.aborted) {
    socket.destroy();
    return;
  }
  socket.write(['HTTP/1.1 101 Switching Protocols', `upgrade: ${REPL_PROTOCOL}`, 'connection: Upgrade', ...commonHeaderLines(), '', ''].join('\r\n'));
  if (head.length > 0) socket.unshift(head);
  socket.setNoDelay(true);
  ctx.auditDetail['terminal'] = terminal.tty;
  let lines = 0;
  ctx.auditDetail['lines'] = lines;
  const opened = performance.now();
  // Before the pipeline's own 'close' listener, which audits the session with these details.
  socket.prependOnceListener('close', () => {
    ctx.auditDetail['sessionMs'] = Math.round(performance.now() - opened);
  });
  startSession(runtime, socket, {
    prompt: promptFor(ctx.options.app.name),
    terminal: terminal.tty,
    columns: terminal.columns,
    rows: terminal.rows,
    context: repl.context,
    evalTimeoutMs: repl.evalTimeoutMs,
    idleTimeoutMs: repl.idleTimeoutMs,
    signal: ctx.signal,
    onEvaluated: ({ code, outcome, durationMs }) => {
      ctx.auditDetail['lines'] = ++lines;
      ctx.audit({ kind: 'repl', status: 101, durationMs, detail: { code: code.length > 2000 ? `${code.slice(0, 2000)}…` : code.replace(/\n$/, ''), outcome } });
    },
    onUncaught: (error, sessionOpen) => {
      const { name, message } = describeError(error, (value) => inspect(value));
      ctx.audit({ kind: 'repl', status: 101, durationMs: 0, detail: { outcome: 'uncaught', error: `${name}: ${message}`.slice(0, 2000), sessionOpen } });
    },
  });
}

function promptFor(app: string): string {
  return `${app}@${instanceIdentity.host}[${instanceIdentity.pid}]> `;
}

/** `tty=1; cols=120; rows=40` → terminal settings; anything missing or odd falls back to a plain 80x24 stream. */
export function parseTerminal(header: string | string[] | undefined): { tty: boolean; columns: number; rows: number } {
  const fields = new Map(String(header ?? '').split(';').map((part) => part.trim().split('=') as [string, string]));
  const size = (value: string | undefined, fallback: number) => {
    const n = Number(value);
    return Number.isInteger(n) && n >= 10 && n <= 1000 ? n : fallback;
  };
  return { tty: fields.get('tty') === '1', columns: size(fields.get('cols'), 80), rows: size(fields.get('rows'), 24) };
}
