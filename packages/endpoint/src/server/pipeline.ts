// The request lifecycle, in one fixed order; each step's refusal is cheap and final:
//
//   closing   503 SHUTTING_DOWN     the endpoint is closing
//   one       400 BAD_REQUEST       a request pipelined behind one not yet answered: each
//                                   connection does one thing at a time, so the limits on
//                                   connections bound the work a client can start
//   auth      401 / 400             no, bad or malformed bearer token (public routes skip it);
//             429 THROTTLED         instead, when this address (an IPv6 one's /64:
//                                   address-group.ts) presented bad tokens too often.
//                                   A valid token still gets in: behind a proxy or
//                                   port-forward, operators share the attacker's address.
//   expect    417 EXPECTATION_FAILED an Expect header other than 100-continue (whose
//                                   "100 Continue" is sent only once a route reads the body)
//   route     404 / 405 + Allow     only now, so anonymous callers learn no paths
//   scope     403 SCOPE_MISSING     the token lacks the route's scope
//   gate      429 BUSY              the route's heavy operation is already running
//   handle                          the route; an unexpected throw becomes 500 INTERNAL; an
//                                   answer its client stops taking is cut off (send-stall.ts)
//
// HTTP Upgrade requests (the REPL) pass the same steps before the upgrade is accepted,
// and get their refusals as ordinary HTTP responses on the socket.
//
// Every request that reaches a route, and every refusal, is audited when it ends.
// Refusals while throttled are audited at the 1st, 10th, 100th… of each block; those of
// callers without a token are summarised (audit-summary.ts). Refusals of a caller without
// a valid token (a public route's caller included) carry no instance header (an anonymous
// caller learns nothing) and close the connection: a caller without a token holds no
// connection past its answer. On the
// endpoint's own server, a valid token moves its connection out of the pool that
// unauthenticated connections compete for (admission.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename } from 'node:path';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { auditTime, type AuditEvent, type AuditSink } from '../audit.js';
import type { ResolvedToken } from '../options.js';
import { ERRORS, scopeAllows, type ErrorCode } from '../protocol/index.js';
import { addressGroup } from './address-group.js';
import type { ConnectionAdmission } from './admission.js';
import { authenticate } from './auth.js';
import { hasBody } from './body.js';
import type { ServerConfig } from './config.js';
import type { InFlight } from './in-flight.js';
import { closeSocket, rawErrorResponse, sendError, type ErrorReply } from './replies.js';
import type { Route, RouteContext } from './route.js';
import type { Router } from './router.js';
import type { RefusalCounter } from './refusal-counter.js';
import { cutOffWhenStalled } from './send-stall.js';
import type { AuthThrottle } from './throttle.js';

export interface PipelineState {
  readonly config: ServerConfig;
  readonly router: Router;
  readonly throttle: AuthThrottle;
  /** Paths of the routes the application made public. */
  readonly publicPaths: ReadonlySet<string>;
  readonly inFlight: InFlight;
  /** Where audit events go (the application's sink behind the anonymous summary); null when auditing is off. */
  readonly audit: AuditSink | null;
  /** The own server's connection admission; null when mounted in the application's server. */
  admission: ConnectionAdmission | null;
  /** Every refusal, by code, for GET /metrics. */
  readonly refusals: RefusalCounter;
  closing: boolean;
}

type AuditFields = Omit<AuditEvent, 'time' | 'address' | 'method' | 'path' | 'durationMs'>;

/** The outcome of the checks before a handler runs. */
type Admission =
  | { ok: true; route: Route; params: Readonly<Record<string, string>>; token: ResolvedToken | null; release: (() => void) | undefined }
  | { ok: false; code: ErrorCode; reply: ErrorReply; audit: AuditFields | null };

const WWW_AUTHENTICATE: Partial<Record<ErrorCode, string>> = {
  AUTH_REQUIRED: 'Bearer realm="opsctl"',
  AUTH_INVALID: 'Bearer realm="opsctl", error="invalid_token"',
  AUTH_MALFORMED: 'Bearer realm="opsctl", error="invalid_request"',
};

export interface Pipeline {
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

export function createPipeline(state: PipelineState): Pipeline {
  const { config, router, throttle } = state;

  // The address is read once, when the request arrives: a destroyed request has no socket.
  const audit = (req: IncomingMessage, address: string, started: number, fields: AuditFields) => {
    state.audit?.({
      time: auditTime(),
      address,
      method: req.method ?? '',
      path: pathOf(req.url, config.basePath).slice(0, 200),
      durationMs: Math.round(performance.now() - started),
      ...fields,
    });
  };

  // Connections with a request being answered (see `one` above).
  const answering = new WeakSet<object>();

  const admit = (req: IncomingMessage, address: string, path: string): Admission => {
    if (state.closing) {
      return {
        ok: false,
        code: 'SHUTTING_DOWN',
        reply: { anonymous: true, headers: { 'retry-after': 1, connection: 'close' } },
        audit: { kind: 'refusal', token: null, route: null, status: 503, code: 'SHUTTING_DOWN' },
      };
    }
    if (answering.has(req.socket)) {
      return {
        ok: false,
        code: 'BAD_REQUEST',
        reply: {
          anonymous: true,
          message: 'A request arrived before the one ahead of it on the connection was answered; send one request at a time.',
          headers: { connection: 'close' },
        },
        audit: { kind: 'refusal', token: null, route: null, status: 400, code: 'BAD_REQUEST', detail: { reason: 'pipelined' } },
      };
    }

    let token: ResolvedToken | null = null;
    if (!state.publicPaths.has(path)) {
      const auth = authenticate(req, config.tokens);
      if (!auth.ok) {
        const now = Date.now();
        const blocked = throttle.check(addressGroup(address), now);
        if (blocked.retryAfterMs > 0) {
          return {
            ok: false,
            code: 'THROTTLED',
            reply: { anonymous: true, headers: { 'retry-after': Math.ceil(blocked.retryAfterMs / 1000), connection: 'close' } },
            audit: isPowerOfTen(blocked.refusedInBlock)
              ? { kind: 'throttle', token: null, route: null, status: 429, code: 'THROTTLED', detail: { refusedInBlock: blocked.refusedInBlock } }
              : null,
          };
        }
        // A request without credentials guesses nothing: only bad tokens count towards a block.
        const blockMs = auth.code === 'AUTH_REQUIRED' ? 0 : throttle.fail(addressGroup(address), now);
        return {
          ok: false,
          code: auth.code,
          reply: { anonymous: true, headers: { 'www-authenticate': WWW_AUTHENTICATE[auth.code] ?? 'Bearer', connection: 'close' } },
          audit: {
            kind: 'refusal',
            token: null,
            route: null,
            status: ERRORS[auth.code].status,
            code: auth.code,
            ...(blockMs > 0 ? { detail: { throttledForMs: blockMs } } : {}),
          },
        };
      }
      throttle.succeed(addressGroup(address), Date.now());
      token = auth.token;
      const connection = state.admission?.authenticate(req.socket as Socket, token.name) ?? 'admitted';
      if (connection !== 'admitted') {
        const limit = connection === 'token-limit' ? config.limits.maxConnectionsPerToken : config.limits.maxConnections;
        return {
          ok: false,
          code: 'TOO_MANY_CONNECTIONS',
          reply: {
            message:
              connection === 'token-limit'
                ? `The token "${token.name}" already holds ${limit} connections, as many as one token may; close some and try again.`
                : `All ${limit} connections for authenticated callers are in use; close some and try again.`,
            details: { limit, perToken: connection === 'token-limit' },
            headers: { 'retry-after': 1, connection: 'close' },
          },
          audit: { kind: 'refusal', token: token.name, route: null, status: 503, code: 'TOO_MANY_CONNECTIONS', detail: { limit: connection } },
        };
      }
    }
    const caller = token?.name ?? null;
    // Whoever has no token learns no more than an unauthenticated caller, and keeps no connection.
    const anonymous = token === null;
    const closeAnonymous: Record<string, string> = anonymous ? { connection: 'close' } : {};

    const expect = req.headers.expect;
    if (expect !== undefined && expect.toLowerCase() !== '100-continue') {
      return {
        ok: false,
        code: 'EXPECTATION_FAILED',
        reply: { anonymous, headers: { connection: 'close' } },
        audit: { kind: 'refusal', token: caller, route: null, status: 417, code: 'EXPECTATION_FAILED' },
      };
    }

    const match = router.match(req.method ?? '', path);
    if (match.kind !== 'found') {
      const code: ErrorCode = match.kind === 'not-found' ? 'NOT_FOUND' : 'METHOD_NOT_ALLOWED';
      return {
        ok: false,
        code,
        reply: { anonymous, headers: { ...closeAnonymous, ...(match.kind === 'method-not-allowed' ? { allow: match.allow } : {}) } },
        audit: { kind: 'refusal', token: caller, route: null, status: ERRORS[code].status, code },
      };
    }
    const { route, params } = match;

    if (token !== null && !scopeAllows(token.scopes, route.scope)) {
      return {
        ok: false,
        code: 'SCOPE_MISSING',
        reply: {
          message: `The token "${token.name}" lacks the "${route.scope}" scope that ${route.method} ${route.path} requires.`,
          details: { required: route.scope, held: token.scopes },
        },
        audit: { kind: 'refusal', token: caller, route: route.path, status: 403, code: 'SCOPE_MISSING' },
      };
    }

    if (route.disabled !== undefined) {
      return {
        ok: false,
        code: 'FEATURE_DISABLED',
        reply: { anonymous, message: route.disabled.message, details: { fix: route.disabled.fix }, headers: closeAnonymous },
        audit: { kind: 'refusal', token: caller, route: route.path, status: 404, code: 'FEATURE_DISABLED' },
      };
    }

    const { gate } = route;
    const release = gate?.tryEnter();
    if (gate !== undefined && release === null) {
      return {
        ok: false,
        code: 'BUSY',
        reply: { anonymous, message: gate.busyMessage, headers: { ...closeAnonymous, 'retry-after': gate.retryAfterSeconds } },
        audit: { kind: 'refusal', token: caller, route: route.path, status: 429, code: 'BUSY' },
      };
    }
    return { ok: true, route, params, token, release: release ?? undefined };
  };

  const contextFor = (
    req: IncomingMessage,
    address: string,
    route: Route,
    params: Readonly<Record<string, string>>,
    token: ResolvedToken | null,
    signal: AbortSignal,
    release: (() => void) | undefined,
  ): RouteContext => ({
    config,
    token,
    query: new URLSearchParams(queryOf(req.url)),
    params,
    signal,
    auditDetail: {},
    caller: { token: token?.name ?? null, address, method: req.method ?? '', path: pathOf(req.url, config.basePath).slice(0, 200), route: route.path },
    upgradeStatus: 101,
    audit: ({ kind, status, durationMs, detail }) =>
      audit(req, address, performance.now() - durationMs, { kind, token: token?.name ?? null, route: route.path, status, detail }),
    releaseGate: release ?? (() => {}),
  });

  return {
    handleRequest(req, res) {
      const started = performance.now();
      const { socket } = req;
      const address = socket.remoteAddress ?? 'unknown';
      const admission = admit(req, address, pathOf(req.url, config.basePath));
      if (!admission.ok) {
        state.refusals.count(admission.code);
        // An unread request body would otherwise be read and discarded to keep the connection alive.
        if (hasBody(req)) res.setHeader('connection', 'close');
        sendError(res, admission.code, admission.reply);
        if (admission.audit) audit(req, address, started, admission.audit);
        return;
      }
      const { route, params, token, release } = admission;
      answering.add(socket);
      // Asked to wait for "100 Continue" before sending its body: sent now that the request may go on.
      // (Node sends it itself, before any check, on a server without a 'checkContinue' listener.)
      if (req.headers.expect !== undefined && hasBody(req) && (res as ServerResponse & { _sent100?: boolean })._sent100 !== true) res.writeContinue();
      const running = state.inFlight.start(() => res.destroy());
      cutOffWhenStalled(res, config.limits.sendStallMs);
      const ctx = contextFor(req, address, route, params, token, running.signal, release);
      const bytesBefore = socket.bytesWritten;
      const closed = new Promise<void>((resolve) => res.once('close', resolve));
      void closed.then(() => {
        answering.delete(socket);
        running.end();
        const completed = res.writableFinished;
        audit(req, address, started, {
          kind: 'request',
          token: token?.name ?? null,
          route: route.path,
          status: res.statusCode,
          bytes: socket.bytesWritten - bytesBefore,
          ...(completed && Object.keys(ctx.auditDetail).length === 0 ? {} : { detail: { ...ctx.auditDetail, ...(completed ? {} : { aborted: true }) } }),
        });
      });
      const done = Promise.resolve()
        .then(() => route.handle(req, res, ctx))
        .catch((error: unknown) => {
          ctx.auditDetail['error'] = error instanceof Error ? error.message : String(error);
          if (res.headersSent) return void res.destroy();
          const [code, reply] = refusalFor(error, token);
          sendError(res, code, reply);
        });
      // The gate is held while the work goes on, even when its client has gone (a snapshot
      // still being written): both must end before another may start, unless the route
      // lets it go earlier (ctx.releaseGate: its heavy part is over).
      if (release !== undefined) void Promise.all([closed, done]).then(release);
    },

    handleUpgrade(req, socket, head) {
      const started = performance.now();
      const address = req.socket.remoteAddress ?? 'unknown';
      socket.on('error', () => socket.destroy());
      const admission = admit(req, address, pathOf(req.url, config.basePath));
      const refuse = (code: ErrorCode, reply: ErrorReply, fields: AuditFields | null) => {
        state.refusals.count(code);
        closeSocket(socket, rawErrorResponse(code, reply));
        if (fields) audit(req, address, started, fields);
      };
      if (!admission.ok) return refuse(admission.code, admission.reply, admission.audit);
      const { route, params, token, release } = admission;
      if (route.upgrade === undefined) {
        release?.();
        return refuse(
          'BAD_REQUEST',
          { message: `${route.method} ${route.path} does not accept an HTTP Upgrade.` },
          { kind: 'refusal', token: token?.name ?? null, route: route.path, status: 400, code: 'BAD_REQUEST' },
        );
      }
      const running = state.inFlight.start(() => socket.destroy());
      const ctx = contextFor(req, address, route, params, token, running.signal, release);
      const closed = new Promise<void>((resolve) => socket.once('close', resolve));
      const done = Promise.resolve()
        .then(() => route.upgrade?.(req, socket, head, ctx))
        .catch((error: unknown) => {
          ctx.auditDetail['error'] = error instanceof Error ? error.message : String(error);
          socket.destroy();
        });
      void closed.then(() => running.end());
      // Audited once the route is done with the session too: it adds what the session did.
      void Promise.all([closed, done]).then(() => {
        release?.();
        audit(req, address, started, {
          kind: 'request',
          token: token?.name ?? null,
          route: route.path,
          status: ctx.upgradeStatus,
          ...(Object.keys(ctx.auditDetail).length > 0 ? { detail: ctx.auditDetail } : {}),
        });
      });
    },
  };
}

/**
 * What a handler's failure answers: the main thread busy or gone, a feature switched off,
 * or 500. A blocked main thread's stack (code paths, the `profile` scope's to see) is told
 * only to a caller whose token may see it.
 */
function refusalFor(error: unknown, token: ResolvedToken | null): [ErrorCode, ErrorReply] {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const message = error instanceof Error ? error.message : undefined;
  if (code === 'MAIN_THREAD_BLOCKED') {
    const { details = {}, retryAfterSeconds = 5 } = error as Error & { details?: Record<string, unknown>; retryAfterSeconds?: number };
    const stack = details['stack'] as { function: string; file: string; line: number }[] | null | undefined;
    const top = stack?.[0];
    if (top === undefined || token === null || !scopeAllows(token.scopes, 'profile')) {
      return ['MAIN_THREAD_BLOCKED', { message, details: { ...details, stack: null }, headers: { 'retry-after': retryAfterSeconds } }];
    }
    const where = `${top.function} (${basename(top.file)}:${top.line})`;
    return [
      'MAIN_THREAD_BLOCKED',
      { message: message?.replace(/, and this needs it\.$/, ` in ${where}, and this needs it.`), details, headers: { 'retry-after': retryAfterSeconds } },
    ];
  }
  if (code === 'FEATURE_DISABLED') return ['FEATURE_DISABLED', { message }];
  if (code === 'ERR_OPSCTL_RPC_CLOSED') return ['SHUTTING_DOWN', { headers: { 'retry-after': 1 } }];
  return ['INTERNAL', {}];
}

/** The request path without query string and without the mount prefix. */
function pathOf(url: string | undefined, basePath: string): string {
  const raw = url ?? '/';
  const end = raw.indexOf('?');
  const path = end === -1 ? raw : raw.slice(0, end);
  if (basePath !== '' && (path === basePath || path.startsWith(`${basePath}/`))) return path.slice(basePath.length) || '/';
  return path;
}

function queryOf(url: string | undefined): string {
  const start = url?.indexOf('?') ?? -1;
  return start === -1 || url === undefined ? '' : url.slice(start + 1);
}

function isPowerOfTen(n: number): boolean {
  while (n >= 10 && n % 10 === 0) n /= 10;
  return n === 1;
}
