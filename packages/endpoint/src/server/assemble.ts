// The HTTP side put together from its routes: the pipeline (for a handler mounted in the
// application's server, or the endpoint's own server), the own server with its limits and
// connection admission, and its graceful close. The same on the main thread (mounted) and
// on the endpoint's own thread (its own port).
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { auditTime, type AuditSink } from '../audit.js';
import { guarded } from '../guard.js';
import { ERRORS, type ErrorCode } from '../protocol/index.js';
import type { ConnectionAdmission } from './admission.js';
import type { ServerConfig } from './config.js';
import { InFlight } from './in-flight.js';
import { createPipeline, type Pipeline, type PipelineState } from './pipeline.js';
import type { RefusalCounter } from './refusal-counter.js';
import { closeSocket, rawErrorResponse } from './replies.js';
import type { Route } from './route.js';
import { Router } from './router.js';
import { AuthThrottle } from './throttle.js';

// How often node checks header and request timeouts; its default (30 s) would let a
// slowloris client hold a connection up to 30 s past HEADERS_TIMEOUT_MS.
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
// How long a close lets aborted handlers end their responses before cutting them off.
const CLOSE_GRACE_MS = 2_000;

export function assemblePipeline(
  config: ServerConfig,
  routes: readonly Route[],
  audit: AuditSink | null,
  refusals: RefusalCounter,
): { state: PipelineState; pipeline: Pipeline } {
  const router = new Router(routes);
  const state: PipelineState = {
    config,
    router,
    throttle: new AuthThrottle({
      allowed: config.limits.authFailuresAllowed,
      windowMs: config.limits.authFailureWindowMs,
      blockMs: config.limits.authBlockMs,
    }),
    publicPaths: new Set([...config.publicRoutes].map((name) => router.byName(name)?.path ?? '')),
    inFlight: new InFlight(),
    audit,
    admission: null,
    refusals,
    closing: false,
  };
  return { state, pipeline: createPipeline(state) };
}

export function createOwnServer(
  config: ServerConfig,
  pipeline: Pipeline,
  admission: ConnectionAdmission,
  audit: AuditSink | null,
  refusals: RefusalCounter,
): Server {
  const { limits } = config;
  const serverOptions = {
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
  };
  // A connection must complete its TLS handshake and start a request within the header
  // timeout. Node's own header timer starts only at the first byte: without this, idle
  // connections would sit in the unauthenticated pool until a newcomer pushed them out.
  const spoken = new WeakSet<Socket>();
  const trackRequests = (req: IncomingMessage) => void spoken.add(req.socket);
  const firstRequestDeadline = (socket: Socket) => {
    // A socket that sent a byte is node's: its header timeout answers 408 (slowloris).
    const timer = setTimeout(
      guarded('closing a silent connection', () => spoken.has(socket) || socket.bytesRead > 0 || socket.destroy()),
      limits.headersTimeoutMs,
    );
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  };
  const handler = (req: IncomingMessage, res: ServerResponse) => pipeline.handleRequest(req, res);
  const server = config.tls
    ? createHttpsServer({ ...config.tls, ...serverOptions, handshakeTimeout: limits.headersTimeoutMs }, handler)
    : createHttpServer(serverOptions, handler);
  // Requests with an Expect header go through the pipeline too: node would otherwise send
  // "100 Continue" before any check, or answer other expectations without an audit.
  server.on('checkContinue', handler);
  server.on('checkExpectation', handler);
  server.on('request', trackRequests);
  server.on('checkContinue', trackRequests);
  server.on('checkExpectation', trackRequests);
  server.on('upgrade', trackRequests);
  server.on('upgrade', pipeline.handleUpgrade);
  // Admission replaces node's maxConnections, which refuses a newcomer however the
  // connections it counts are used (admission.ts).
  server.on('connection', (socket: Socket) => admission.admit(socket));
  server.on(config.tls ? 'secureConnection' : 'connection', firstRequestDeadline);
  server.on('clientError', (error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket) => answerClientError(audit, refusals, error, socket));
  return server;
}

/** Binds `server`; rejects with node's error (its code: EADDRINUSE, EACCES…). */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const bound = server.address();
      resolve(typeof bound === 'object' && bound !== null ? bound.port : port);
    });
  });
}

/**
 * Ends what runs (handlers are aborted, then cut off past a grace period), stops the
 * server (when there is one) and resolves when every connection has gone.
 */
export async function closeGracefully(state: PipelineState, server: Server | null, serverClosed: Promise<void> | null): Promise<void> {
  state.closing = true;
  state.inFlight.abortAll();
  server?.closeIdleConnections();
  // Handlers end their responses when aborted; a client that does not close its side
  // (a REPL, a stream nobody reads) is cut off after a grace period.
  const grace = setTimeout(() => state.inFlight.destroyAll(), CLOSE_GRACE_MS);
  await state.inFlight.whenEmpty();
  clearTimeout(grace);
  // Keep-alive connections whose last response just ended would hold the close open.
  server?.closeAllConnections();
  await serverClosed;
}

/**
 * Answers what never became a request (bad HTTP, oversized headers, a header timeout)
 * with a JSON error, without the instance header (nobody authenticated), and frees the
 * socket whatever the client does.
 */
function answerClientError(audit: AuditSink | null, refusals: RefusalCounter, error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket): void {
  // A response already under way on this socket (a pipelined bad request) must not be
  // corrupted by a raw answer.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const code: ErrorCode =
    error.code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'REQUEST_TIMEOUT' : 'BAD_REQUEST';
  refusals.count(code);
  // The answer to HEAD has no body, however malformed the rest of the request.
  const head = error.rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
  closeSocket(socket, rawErrorResponse(code, { anonymous: true }, { body: !head }));
  audit?.({
    time: auditTime(),
    kind: 'refusal',
    token: null,
    address: socket.remoteAddress ?? 'unknown',
    method: head ? 'HEAD' : '',
    path: '',
    route: null,
    status: ERRORS[code].status,
    code,
    durationMs: 0,
    detail: { reason: error.code ?? 'unknown' },
  });
}
