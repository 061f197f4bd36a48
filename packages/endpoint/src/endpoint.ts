// createMaintenanceEndpoint(): one object with its own server (listen/close), run on a
// thread of its own, and a handler to mount in the application's server instead.
//
// Own port (listen()): the HTTP server, with everything a request costs before it is
// admitted (TLS, parsing, authentication, throttling, refusals, audit) and the streaming
// of files, runs on the endpoint's own thread (thread/endpoint-thread.ts), so a flood of
// refusals costs the application's event loop nothing, and the endpoint answers, with
// the stack of a blocked main thread, when the application cannot. What must happen on
// the main thread (snapshots, the REPL, actions, profiles, leak samples) the thread asks
// for through the Host (host/).
// Mounted (ops.handler): the same routes on the application's own server and thread,
// calling the Host in place; nothing answers while the main thread is blocked.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Worker } from 'node:worker_threads';
import { ActionRunner } from './actions/runner.js';
import { AuditSummary } from './audit-summary.js';
import { Capture } from './diagnostics/capture.js';
import { HEAP_TEMP_PREFIX } from './diagnostics/heap-snapshot.js';
import { LeakMonitor } from './diagnostics/leak-monitor.js';
import { removeStaleTempDirs } from './diagnostics/temp-dirs.js';
import { WorkerRegistry } from './diagnostics/workers.js';
import { settledQuietly } from './guard.js';
import { RuntimeMetrics } from './diagnostics/runtime-metrics.js';
import { LocalHost } from './host/local-host.js';
import { resolveOptions, type EndpointOptions } from './options.js';
import { createRoutes } from './routes/index.js';
import { assemblePipeline, closeGracefully } from './server/assemble.js';
import { serverConfig } from './server/config.js';
import { Gate, sharedGateCount } from './gate.js';
import { HEAP_SNAPSHOT_RETRY_AFTER_S } from './server/limits.js';
import { RefusalCounter } from './server/refusal-counter.js';
import { yieldPortOnConflict } from './server/port-yield.js';
import { MainThreadState } from './thread/main-thread-state.js';
import { ThreadHost } from './thread/thread-host.js';

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
  /** Starts the endpoint's own server on `host`/`port`, on a thread of its own; resolves with the bound address. */
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
  const config = serverConfig(options);
  // Snapshot files of a download the process did not live through (an OOM kill mid-snapshot runs no cleanup).
  const swept = settledQuietly('removing stale heap-snapshot directories', removeStaleTempDirs(options.heapSnapshot.dir, HEAP_TEMP_PREFIX));
  const leakMonitor = options.leaks === null ? null : new LeakMonitor(options.leaks);
  leakMonitor?.start();
  const mainThread = new MainThreadState();
  const runtimeMetrics = new RuntimeMetrics();
  runtimeMetrics.start();
  // The heartbeat the endpoint's thread watches, and the event loop's delay for /metrics.
  const stopBeating = mainThread.startBeating((delayMs) => runtimeMetrics.recordDelay(delayMs));
  // One heap snapshot at a time, whoever asks (a download on the endpoint's thread or an
  // automatic capture here): each can take gigabytes and blocks the event loop.
  const heapGateCount = sharedGateCount();
  const heapGate = new Gate({
    max: 1,
    retryAfterSeconds: HEAP_SNAPSHOT_RETRY_AFTER_S,
    busyMessage: 'A heap snapshot is already running; one at a time.',
    count: heapGateCount,
  });
  const capture =
    options.capture === null
      ? null
      : new Capture({
          settings: options.capture,
          gate: heapGate,
          audit: options.audit,
          app: options.app.name,
          memoryFactor: options.heapSnapshot.memoryFactor,
          memoryLimitBytes: options.memoryLimitBytes,
          announceSnapshot: (expectedMs) => {
            mainThread.snapshotStarting(expectedMs);
            return () => mainThread.snapshotEnded();
          },
        });
  if (capture !== null && leakMonitor !== null) capture.start(leakMonitor);
  const workers = new WorkerRegistry();
  const host = new LocalHost({
    options,
    leakMonitor,
    capture,
    actions: options.actions === null ? null : new ActionRunner(options.actions),
    workers,
    mainThread,
    audit: options.audit,
    metrics: runtimeMetrics,
  });

  // Mounted: the routes on this thread, with the Host in place. No watchdog: nothing can
  // watch the thread it runs on.
  const summary = options.audit === null ? null : new AuditSummary(options.audit);
  const refusals = new RefusalCounter();
  const { state, pipeline } = assemblePipeline(config, createRoutes(host, config, heapGate, null, refusals), summary?.record ?? null, refusals);

  let thread: ThreadHost | null = null;
  let stopWatchingPort = () => {};

  return {
    handler: pipeline.handleRequest,
    upgradeHandler: pipeline.handleUpgrade,

    async listen() {
      if (thread !== null) throw new Error('opsctl endpoint: listen() was already called');
      if (state.closing) throw new Error('opsctl endpoint: listen() after close()');
      const started = new ThreadHost({
        config,
        host,
        mainThread,
        heapGate: heapGateCount,
        forwardTo: options.auditToStderr ? null : options.audit,
        audit: options.audit === null ? 'off' : options.auditToStderr ? 'stderr' : 'forward',
        unref: options.unref,
      });
      thread = started;
      let port: number;
      try {
        port = await started.start();
      } catch (error) {
        thread = null;
        const code = (error as NodeJS.ErrnoException).code;
        throw Object.assign(new Error(`opsctl endpoint: cannot listen on ${options.host}:${options.port}: ${code ?? (error as Error).message}`), { code });
      }
      stopWatchingPort = yieldPortOnConflict(port, options.host, () => {
        started.yieldPort();
        process.stderr.write(
          `opsctl: the application is starting a server on port ${port}, where the maintenance endpoint listened; the endpoint stopped listening so the application can start. Give the endpoint a port of its own (OPSCTL_PORT, or the \`port\` option).\n`,
        );
      });
      const host_ = options.host.includes(':') ? `[${options.host}]` : options.host;
      return { host: options.host, port, url: `${options.tls ? 'https' : 'http'}://${host_}:${port}` };
    },

    async close() {
      stopWatchingPort();
      await capture?.stop();
      leakMonitor?.stop();
      await Promise.all([thread?.close(), closeGracefully(state, null, null)]);
      stopBeating();
      runtimeMetrics.stop();
      host.close();
      await swept;
      summary?.flush();
    },

    registerWorker(name, worker) {
      return workers.register(name, worker);
    },
  };
}
