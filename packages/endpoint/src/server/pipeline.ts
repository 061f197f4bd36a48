// The request lifecycle, in one fixed order; each step's refusal is cheap and final:
//
//   closing   503 SHUTTING_DOWN     the endpoint is closing
//   throttle  429 THROTTLED         this address failed authentication too often
//   auth      401 / 400             no, bad or malformed bearer token (public routes skip it)
//   route     404 / 405 + Allow     only now, so anonymous callers learn no paths
//   scope     403 SCOPE_MISSING     the token lacks the route's scope
//   gate      429 BUSY              the route's heavy operation is already running
//   handle                          the route; an unexpected throw becomes 500 INTERNAL
//
// Every request that reaches a route, and every refusal, is audited when its response
// closes. Refusals while throttled are audited at the 1st, 10th, 100th… of each block.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditEvent } from '../audit.js';
import type { ResolvedOptions, ResolvedToken } from '../options.js';
import { ERRORS, scopeAllows, type ErrorCode } from '../protocol.js';
import { authenticate } from './auth.js';
import type { Gate } from './gate.js';
import type { InFlight } from './in-flight.js';
import { sendError, type ErrorReply } from './replies.js';
import type { RouteContext } from './route.js';
import type { Router } from './router.js';
import type { AuthThrottle } from './throttle.js';

export interface PipelineState {
  readonly options: ResolvedOptions;
  readonly router: Router;
  readonly throttle: AuthThrottle;
  readonly gates: ReadonlyMap<string, Gate>;
  readonly capabilities: readonly string[];
  /** Paths of the routes the application made public. */
  readonly publicPaths: ReadonlySet<string>;
  readonly inFlight: InFlight;
  closing: boolean;
}

const WWW_AUTHENTICATE: Partial<Record<ErrorCode, string>> = {
  AUTH_REQUIRED: 'Bearer realm="opsctl"',
  AUTH_INVALID: 'Bearer realm="opsctl", error="invalid_token"',
  AUTH_MALFORMED: 'Bearer realm="opsctl", error="invalid_request"',
};

export function createRequestHandler(state: PipelineState): (req: IncomingMessage, res: ServerResponse) => void {
  const { options, router, throttle } = state;

  const audit = (req: IncomingMessage, started: number, fields: Omit<AuditEvent, 'time' | 'address' | 'method' | 'path' | 'durationMs'>) => {
    options.audit?.({
      time: new Date().toISOString(),
      address: req.socket.remoteAddress ?? 'unknown',
      method: req.method ?? '',
      path: pathOf(req.url, options.basePath).slice(0, 200),
      durationMs: Math.round(performance.now() - started),
      ...fields,
    });
  };

  const refuse = (req: IncomingMessage, res: ServerResponse, code: ErrorCode, reply: ErrorReply = {}): void => {
    // An unread request body would otherwise be read and discarded to keep the connection alive.
    if (hasBody(req)) res.setHeader('connection', 'close');
    sendError(res, code, reply);
  };

  return (req, res) => {
    const started = performance.now();
    const address = req.socket.remoteAddress ?? 'unknown';
    const path = pathOf(req.url, options.basePath);

    if (state.closing) {
      refuse(req, res, 'SHUTTING_DOWN', { headers: { 'retry-after': 1 } });
      return;
    }

    const now = Date.now();
    const blocked = throttle.check(address, now);
    if (blocked.retryAfterMs > 0) {
      refuse(req, res, 'THROTTLED', { headers: { 'retry-after': Math.ceil(blocked.retryAfterMs / 1000) } });
      if (isPowerOfTen(blocked.refusedInBlock)) {
        audit(req, started, { kind: 'throttle', token: null, route: null, status: 429, code: 'THROTTLED', detail: { refusedInBlock: blocked.refusedInBlock } });
      }
      return;
    }

    let token: ResolvedToken | null = null;
    if (!state.publicPaths.has(path)) {
      const auth = authenticate(req, options.tokens);
      if (!auth.ok) {
        const blockMs = throttle.fail(address, now);
        refuse(req, res, auth.code, { headers: { 'www-authenticate': WWW_AUTHENTICATE[auth.code] ?? 'Bearer' } });
        audit(req, started, {
          kind: 'refusal', token: null, route: null, status: ERRORS[auth.code].status, code: auth.code,
          ...(blockMs > 0 ? { detail: { throttledForMs: blockMs } } : {}),
        });
        return;
      }
      throttle.succeed(address);
      token = auth.token;
    }
    const caller = token?.name ?? null;

    const match = router.match(req.method ?? '', path);
    if (match.kind !== 'found') {
      const code: ErrorCode = match.kind === 'not-found' ? 'NOT_FOUND' : 'METHOD_NOT_ALLOWED';
      refuse(req, res, code, match.kind === 'method-not-allowed' ? { headers: { allow: match.allow } } : {});
      audit(req, started, { kind: 'refusal', token: caller, route: null, status: ERRORS[code].status, code });
      return;
    }
    const { route } = match;

    if (token !== null && !scopeAllows(token.scopes, route.scope)) {
      refuse(req, res, 'SCOPE_MISSING', {
        message: `The token "${token.name}" lacks the "${route.scope}" scope that ${route.method} ${route.path} requires.`,
        details: { required: route.scope, held: token.scopes },
      });
      audit(req, started, { kind: 'refusal', token: caller, route: route.path, status: 403, code: 'SCOPE_MISSING' });
      return;
    }

    const gate = route.gate === undefined ? undefined : state.gates.get(route.gate);
    const release = gate?.tryEnter();
    if (release === null) {
      refuse(req, res, 'BUSY', {
        message: `A ${gate?.name} operation is already running; one at a time.`,
        headers: { 'retry-after': gate?.retryAfterSeconds ?? 1 },
      });
      audit(req, started, { kind: 'refusal', token: caller, route: route.path, status: 429, code: 'BUSY' });
      return;
    }

    const running = state.inFlight.start();
    const ctx: RouteContext = {
      options,
      token,
      query: new URLSearchParams(queryOf(req.url)),
      signal: running.signal,
      auditDetail: {},
      capabilities: state.capabilities,
    };
    const bytesBefore = req.socket.bytesWritten;
    res.once('close', () => {
      running.end();
      release?.();
      const completed = res.writableFinished;
      audit(req, started, {
        kind: 'request', token: caller, route: route.path, status: res.statusCode,
        bytes: req.socket.bytesWritten - bytesBefore,
        ...(completed && Object.keys(ctx.auditDetail).length === 0 ? {} : { detail: { ...ctx.auditDetail, ...(completed ? {} : { aborted: true }) } }),
      });
    });

    const fail = (error: unknown) => {
      ctx.auditDetail['error'] = error instanceof Error ? error.message : String(error);
      if (!res.headersSent) sendError(res, 'INTERNAL');
      else res.destroy();
    };
    try {
      const done = route.handle(req, res, ctx);
      if (done instanceof Promise) done.catch(fail);
    } catch (error) {
      fail(error);
    }
  };
}

/** The request path without query string and without the mount prefix. */
export function pathOf(url: string | undefined, basePath: string): string {
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

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function isPowerOfTen(n: number): boolean {
  while (n >= 10 && n % 10 === 0) n /= 10;
  return n === 1;
}
