// The endpoint's own thread: the HTTP server of its own port (accept, TLS, parsing,
// authentication, throttling, refusals, audit, the streaming of files), the blocked-loop
// watchdog, and the main thread's stack. What must happen on the main thread, the routes
// ask of it through RemoteHost. Started by thread-host.ts; never started by hand.
//
// Nothing here may end the application: this thread's failures end this thread, and the
// main thread restarts it (thread-host.ts).
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { flushAuditNow, stderrAuditSink, type AuditEvent, type AuditSink } from '../audit.js';
import { AuditSummary } from '../audit-summary.js';
import { RemoteHost } from '../host/host-rpc.js';
import { createRoutes } from '../routes/index.js';
import { ConnectionAdmission } from '../server/admission.js';
import { assemblePipeline, closeGracefully, createOwnServer, listen } from '../server/assemble.js';
import { reviveServerConfig, type ServerConfig } from '../server/config.js';
import { Gate } from '../gate.js';
import { RefusalCounter } from '../server/refusal-counter.js';
import { HEAP_SNAPSHOT_RETRY_AFTER_S } from '../server/limits.js';
import { mainThreadBlocked } from './blocked.js';
import { MainThreadState } from './main-thread-state.js';
import { RpcClient } from './rpc.js';
import { StackTaker } from './stack.js';
import { Watchdog } from './watchdog.js';

/** What the main thread hands this thread when it starts it. */
export interface EndpointThreadData {
  config: ServerConfig;
  /** The main thread's heartbeat and snapshot flags (main-thread-state.ts). */
  mainThread: SharedArrayBuffer;
  /** The heap-snapshot gate's count, shared with automatic capture on the main thread. */
  heapGate: SharedArrayBuffer;
  /** Set to 1 (and notified) once this thread has stopped listening at the main thread's request. */
  portYielded: SharedArrayBuffer;
  hostPort: MessagePort;
  /** Where audit events go: written to stderr here, sent to the main thread's sink, or nowhere. */
  audit: 'stderr' | 'forward' | 'off';
}

export type ToThread = { kind: 'close' } | { kind: 'yield-port' };
export type FromThread =
  | { kind: 'listening'; port: number }
  | { kind: 'failed'; code: string | undefined; message: string }
  | { kind: 'audit'; events: AuditEvent[] }
  | { kind: 'closed' };

// The main thread's diagnostic report includes this thread's: without this, it would
// resolve the peer of every connection here by reverse DNS (minutes on a busy endpoint),
// and the main thread waits for it.
(process.report as typeof process.report & { excludeNetwork?: boolean }).excludeNetwork = true;

const port = parentPort as MessagePort;
const data = workerData as EndpointThreadData;
const config = reviveServerConfig(data.config);
const state = new MainThreadState(data.mainThread);
const stacks = new StackTaker();
const blockedAfterMs = config.blockedThresholdMs ?? 1_000;
const watchdog = config.blockedThresholdMs === null ? null : new Watchdog(state, stacks, { thresholdMs: config.blockedThresholdMs });
const host = new RemoteHost(
  new RpcClient(data.hostPort),
  () => mainThreadBlocked(state, watchdog, blockedAfterMs),
  () => state.sinceLastBeatMs(),
);
const heapGate = new Gate({
  max: 1,
  retryAfterSeconds: HEAP_SNAPSHOT_RETRY_AFTER_S,
  busyMessage: 'A heap snapshot is already running; one at a time.',
  count: new Int32Array(data.heapGate),
});

const sink = auditSink(data.audit);
const summary = sink === null ? null : new AuditSummary(sink);
const refusals = new RefusalCounter();
const routes = createRoutes(host, config, heapGate, { state, watchdog, stacks }, refusals);
const { state: pipelineState, pipeline } = assemblePipeline(config, routes, summary?.record ?? null, refusals);
const admission = new ConnectionAdmission(
  {
    maxAuthenticated: config.limits.maxConnections,
    maxAuthenticatedPerToken: config.limits.maxConnectionsPerToken,
    maxUnauthenticated: config.limits.maxUnauthenticatedConnections,
    maxUnauthenticatedPerAddress: config.limits.maxUnauthenticatedPerAddress,
  },
  (address, reason) => {
    refusals.count('CONNECTION_DROPPED');
    summary?.dropped(address, reason);
  },
);
pipelineState.admission = admission;
const server = createOwnServer(config, pipeline, admission, pipelineState.audit, refusals);
let serverClosed: Promise<void> | null = null;
const stopListening = () => (serverClosed ??= new Promise<void>((resolve) => server.close(() => resolve())));

watchdog?.subscribe((block) => {
  summary?.record({
    time: new Date().toISOString(),
    kind: 'block',
    token: null,
    address: 'in-process',
    method: '',
    path: '',
    route: null,
    status: 0,
    durationMs: block.durationMs,
    detail: { cause: block.cause, top: block.stack?.slice(0, 3) ?? null, ...(block.stackNote === null ? {} : { stackNote: block.stackNote }) },
  });
});

port.on('message', (message: ToThread) => {
  if (message.kind === 'yield-port') {
    // Closing a listening handle frees the port at once; the application's listen() waits on this.
    void stopListening();
    const flag = new Int32Array(data.portYielded);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  } else if (message.kind === 'close') {
    void close();
  }
});

async function close(): Promise<void> {
  watchdog?.stop();
  await closeGracefully(pipelineState, server, stopListening());
  summary?.flush();
  flushForwarded();
  flushAuditNow();
  port.postMessage({ kind: 'closed' } satisfies FromThread);
}

try {
  const bound = await listen(server, config.port, config.host);
  watchdog?.start();
  port.postMessage({ kind: 'listening', port: bound } satisfies FromThread);
} catch (error) {
  port.postMessage({ kind: 'failed', code: (error as NodeJS.ErrnoException).code, message: (error as Error).message } satisfies FromThread);
}

// Events for the main thread's sink go in one message per turn of this thread's loop.
let forwarded: AuditEvent[] = [];
function flushForwarded(): void {
  if (forwarded.length === 0) return;
  port.postMessage({ kind: 'audit', events: forwarded } satisfies FromThread);
  forwarded = [];
}

function auditSink(mode: EndpointThreadData['audit']): AuditSink | null {
  if (mode === 'off') return null;
  if (mode === 'stderr') return stderrAuditSink;
  return (event) => {
    if (forwarded.length === 0) setImmediate(flushForwarded);
    forwarded.push(event);
  };
}
