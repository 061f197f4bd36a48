// createMaintenanceEndpoint(): one object with its own server (listen/close) and a
// handler to mount in the application's server instead.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Worker } from 'node:worker_threads';
import { ActionRunner } from './actions/runner.js';
import { auditTime, type AuditEvent } from './audit.js';
import { Capture } from './diagnostics/capture.js';
import { HEAP_TEMP_PREFIX } from './diagnostics/heap-snapshot.js';
import { LeakMonitor } from './diagnostics/leak-monitor.js';
import { removeStaleTempDirs } from './diagnostics/temp-dirs.js';
import { WorkerRegistry } from './diagnostics/workers.js';
import { resolveOptions, type EndpointOptions, type ResolvedOptions } from './options.js';
import type { ErrorCode } from './protocol.js';
import { ERRORS } from './protocol.js';
import { actionRun, actionsList } from './routes/actions.js';
import { evalRoute } from './routes/eval.js';
import { heapdump } from './routes/heapdump.js';
import { leaks, leaksStream } from './routes/leaks.js';
import { health } from './routes/health.js';
import { info } from './routes/info.js';
import { memory } from './routes/memory.js';
import { profileCpu, profileHeap } from './routes/profile.js';
import { replRoute } from './routes/repl.js';
import { report } from './routes/report.js';
import { snapshotDelete, snapshotGet, snapshotsList } from './routes/snapshots.js';
import { workers } from './routes/workers.js';
import { Gate } from './server/gate.js';
import { InFlight } from './server/in-flight.js';
import { createPipeline, type PipelineState } from './server/pipeline.js';
import { rawErrorResponse } from './server/replies.js';
import type { Route } from './server/route.js';
import { Router } from './server/router.js';
import { AuthThrottle } from './server/throttle.js';

// How often node checks header and request timeouts; its default (30 s) would let a
// slowloris client hold a connection up to 30 s past HEADERS_TIMEOUT_MS.
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

// How long close() lets aborted handlers end their responses before cutting them off.
const CLOSE_GRACE_MS = 2_000;

// What a refused second snapshot is told: a 200 MB heap takes ~15-30 s to snapshot.
const HEAP_SNAPSHOT_RETRY_AFTER_S = 30;
// REPL sessions last minutes; a refused one should not retry in a tight loop.
const REPL_RETRY_AFTER_S = 60;
// Profiles run 10 s by default: about when the running one ends.
const PROFILE_RETRY_AFTER_S = 10;

export interface EndpointAddress {
  host: string;
  port: number;
  /** e.g. http://127.0.0.1:9500 */
  url: string;
}

export interface MaintenanceEndpoint {
  /** A node:http request listener, to mount in the application's own server or framework. */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** A node:http 'upgrade' listener for the mounted case: `server.on('upgrade', ops.upgradeHandler)` (the REPL needs it). */
  readonly upgradeHandler: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Starts the endpoint's own server on `host`/`port`; resolves with the bound address. */
  listen(): Promise<EndpointAddress>;
  /** Ends open streams and sessions, stops the server, and resolves when all is closed. */
  close(): Promise<void>;
  /**
   * Makes a worker thread reachable by name (GET /workers, opsctl heapdump --worker NAME);
   * Node keeps no list of them. It is dropped when it exits. Returns the unregister function.
   */
  registerWorker(name: string, worker: Worker): () => void;
}

export function createMaintenanceEndpoint(input: EndpointOptions): MaintenanceEndpoint {
  const options = resolveOptions(input);
  const routes: Route[] = [
    health, info, memory, heapdump, leaks, leaksStream, replRoute, evalRoute,
    profileCpu, profileHeap, report, actionsList, actionRun, snapshotsList, snapshotGet, snapshotDelete, workers,
  ];
  // Snapshot files of a download the process did not live through (an OOM kill mid-snapshot runs no cleanup).
  const swept = removeStaleTempDirs(options.heapSnapshot.dir, HEAP_TEMP_PREFIX);
  const leakMonitor = options.leaks === null ? null : new LeakMonitor(options.leaks);
  leakMonitor?.start();
  const router = new Router(routes);
  // One heap snapshot at a time, whoever asks (a download or an automatic capture): each can take gigabytes and blocks the event loop.
  const heapGate = new Gate({ max: 1, retryAfterSeconds: HEAP_SNAPSHOT_RETRY_AFTER_S, busyMessage: 'A heap snapshot is already running; one at a time.' });
  const capture = options.capture === null ? null : new Capture({
    settings: options.capture,
    gate: heapGate,
    audit: options.audit,
    app: options.app.name,
    memoryFactor: options.heapSnapshot.memoryFactor,
    memoryLimitBytes: options.memoryLimitBytes,
  });
  if (capture !== null && leakMonitor !== null) capture.start(leakMonitor);
  const workerRegistry = new WorkerRegistry();
  const state: PipelineState = {
    options,
    router,
    throttle: new AuthThrottle({
      allowed: options.limits.authFailuresAllowed,
      windowMs: options.limits.authFailureWindowMs,
      blockMs: options.limits.authBlockMs,
    }),
    gates: new Map([
      ['heap-snapshot', heapGate],
      // One profile at a time: the heap sampler is one per process, and two CPU profiles cost twice.
      ['profile', new Gate({ max: 1, retryAfterSeconds: PROFILE_RETRY_AFTER_S, busyMessage: 'A profile is already running; one at a time.' })],
      ['repl', new Gate({ max: options.repl?.maxSessions ?? 0, retryAfterSeconds: REPL_RETRY_AFTER_S, busyMessage: `All ${options.repl?.maxSessions ?? 0} REPL sessions are in use.` })],
    ]),
    capabilities: routes.filter((route) => route.enabled?.(options) !== false).map((route) => route.name),
    publicPaths: new Set([...options.publicRoutes].map((name) => router.byName(name)?.path ?? '')),
    inFlight: new InFlight(),
    leakMonitor,
    actions: options.actions === null ? null : new ActionRunner(options.actions),
    capture,
    workers: workerRegistry,
    closing: false,
  };
  const pipeline = createPipeline(state);
  const handler = pipeline.handleRequest;
  let server: Server | null = null;

  return {
    handler,
    upgradeHandler: pipeline.handleUpgrade,

    async listen() {
      if (server !== null) throw new Error('opsctl endpoint: listen() was already called');
      if (state.closing) throw new Error('opsctl endpoint: listen() after close()');
      server = createServer(options, handler);
      server.on('upgrade', pipeline.handleUpgrade);
      const listening = server;
      await new Promise<void>((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(options.port, options.host, () => {
          listening.off('error', reject);
          resolve();
        });
      }).catch((error: NodeJS.ErrnoException) => {
        server = null;
        throw Object.assign(new Error(`opsctl endpoint: cannot listen on ${options.host}:${options.port}: ${error.code ?? error.message}`), { code: error.code });
      });
      if (options.unref) listening.unref();
      const bound = listening.address();
      const port = typeof bound === 'object' && bound !== null ? bound.port : options.port;
      const host = options.host.includes(':') ? `[${options.host}]` : options.host;
      return { host: options.host, port, url: `${options.tls ? 'https' : 'http'}://${host}:${port}` };
    },

    async close() {
      state.closing = true;
      await capture?.stop();
      leakMonitor?.stop();
      state.inFlight.abortAll();
      const closing = server;
      const serverClosed = closing === null ? Promise.resolve() : new Promise<void>((resolve) => closing.close(() => resolve()));
      closing?.closeIdleConnections();
      // Handlers end their responses when aborted; a client that does not close its side
      // (a REPL, a stream nobody reads) is cut off after a grace period.
      const grace = setTimeout(() => state.inFlight.destroyAll(), CLOSE_GRACE_MS);
      await state.inFlight.whenEmpty();
      clearTimeout(grace);
      // Keep-alive connections whose last response just ended would hold close() open.
      closing?.closeAllConnections();
      await serverClosed;
      await swept;
    },

    registerWorker(name, worker) {
      return workerRegistry.register(name, worker);
    },
  };
}

function createServer(options: ResolvedOptions, handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const { limits } = options;
  const serverOptions = {
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
  };
  // A connection must complete its TLS handshake and start a request within the header
  // timeout. Node's own header timer starts only at the first byte: without this, 64 idle
  // connections would fill maxConnections and lock every operator out.
  const spoken = new WeakSet<Socket>();
  const trackRequests = (req: IncomingMessage) => void spoken.add(req.socket);
  const firstRequestDeadline = (socket: Socket) => {
    // A socket that sent a byte is node's: its header timeout answers 408 (slowloris).
    const timer = setTimeout(() => spoken.has(socket) || socket.bytesRead > 0 || socket.destroy(), limits.headersTimeoutMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  };
  const server = options.tls
    ? createHttpsServer({ ...options.tls, ...serverOptions, handshakeTimeout: limits.headersTimeoutMs }, handler)
    : createHttpServer(serverOptions, handler);
  server.on('request', trackRequests);
  server.on('upgrade', trackRequests);
  server.on(options.tls ? 'secureConnection' : 'connection', firstRequestDeadline);
  server.maxConnections = limits.maxConnections;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(options, error, socket));
  return server;
}

/** Answers what never became a request (bad HTTP, oversized headers, a header timeout) with a JSON error. */
function answerClientError(options: ResolvedOptions, error: NodeJS.ErrnoException, socket: Socket): void {
  // A response already under way on this socket (a pipelined bad request) must not be
  // corrupted by a raw answer.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const code: ErrorCode =
    error.code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE'
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'REQUEST_TIMEOUT'
    : 'BAD_REQUEST';
  socket.end(rawErrorResponse(code));
  const event: AuditEvent = {
    time: auditTime(),
    kind: 'refusal',
    token: null,
    address: socket.remoteAddress ?? 'unknown',
    method: '',
    path: '',
    route: null,
    status: ERRORS[code].status,
    code,
    durationMs: 0,
    detail: { reason: error.code ?? 'unknown' },
  };
  options.audit?.(event);
}
