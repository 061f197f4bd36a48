// The main thread's side of the endpoint's own thread: starts it (endpoint-thread.ts),
// answers its calls with the LocalHost, writes the audit events it forwards, and
// restarts it when it stops unexpectedly, saying so once on stderr each time: at once,
// MAX_RESTARTS times within RESTART_WINDOW_MS, then once that window has passed (an
// endpoint that keeps dying is off for a while, never for good, and costs nothing
// meanwhile). The thread never keeps the process
// alive on its own account unless the application asked (`unref: false`, the default
// for `listen()`: the endpoint's own server did so before it had a thread).
import { existsSync } from 'node:fs';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { AuditSink } from '../audit.js';
import { guarded } from '../guard.js';
import { serveHost } from '../host/host-rpc.js';
import type { LocalHost } from '../host/local-host.js';
import { instanceIdentity } from '../instance.js';
import type { ServerConfig } from '../server/config.js';
import type { EndpointThreadData, FromThread, ToThread } from './endpoint-thread.js';
import type { MainThreadState } from './main-thread-state.js';

/** Restarts made at once within RESTART_WINDOW_MS; past them the next waits for the window. */
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 10 * 60_000;
/** The heap of the endpoint's thread: requests, routes and buffers, never the application's data. */
const THREAD_HEAP_MB = 64;
/** The longest the application's listen() waits for the endpoint to give its port up. */
const YIELD_WAIT_MS = 1_000;
const CLOSE_WAIT_MS = 5_000;

export interface ThreadHostOptions {
  config: ServerConfig;
  host: LocalHost;
  mainThread: MainThreadState;
  heapGate: Int32Array;
  /** The application's sink, for events the thread forwards; null when it writes to stderr itself or auditing is off. */
  forwardTo: AuditSink | null;
  audit: EndpointThreadData['audit'];
  unref: boolean;
}

export class ThreadHost {
  readonly #options: ThreadHostOptions;
  #worker: Worker | null = null;
  #stopServing: (() => void) | null = null;
  #closing = false;
  #restarts: number[] = [];
  #pendingRestart: NodeJS.Timeout | null = null;
  #port = 0;
  readonly #portYielded = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));

  constructor(options: ThreadHostOptions) {
    this.#options = options;
  }

  /** Starts the thread; resolves with the port it listens on, or rejects with the listen error (its `code`). */
  async start(port = this.#options.config.port): Promise<number> {
    const { port1, port2 } = new MessageChannel();
    const data: EndpointThreadData & { instance: typeof instanceIdentity } = {
      config: { ...this.#options.config, port },
      mainThread: this.#options.mainThread.buffer,
      heapGate: this.#options.heapGate.buffer as SharedArrayBuffer,
      portYielded: this.#portYielded.buffer as SharedArrayBuffer,
      hostPort: port2,
      audit: this.#options.audit,
      instance: { ...instanceIdentity },
    };
    const worker = new Worker(threadScript(), {
      workerData: data,
      transferList: [port2],
      // Not the application's flags: a preload (--import @opsctl/endpoint/register) would start another endpoint in it.
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: THREAD_HEAP_MB },
      name: 'opsctl-endpoint',
    });
    this.#worker = worker;
    this.#stopServing = serveHost(port1, this.#options.host);
    // A port listening for messages keeps the process alive like the worker itself.
    if (this.#options.unref) port1.unref();
    worker.on(
      'message',
      guarded("taking a message from the endpoint's thread", (message: FromThread) => {
        if (message.kind === 'audit') for (const event of message.events) this.#options.forwardTo?.(event);
      }),
    );
    const listening = new Promise<number>((resolve, reject) => {
      const onMessage = (message: FromThread) => {
        if (message.kind === 'listening') resolve(message.port);
        else if (message.kind === 'failed') reject(Object.assign(new Error(message.message), { code: message.code }));
        else return;
        worker.off('message', onMessage);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the endpoint's thread exited with code ${code} before it listened`)));
    });
    try {
      this.#port = await listening;
    } catch (error) {
      this.#retire(worker);
      await worker.terminate();
      throw error;
    }
    worker.on(
      'error',
      guarded("reporting the endpoint's thread's failure", (error: Error) => this.#stopped(worker, `an error: ${error.message}`)),
    );
    worker.on(
      'exit',
      guarded("restarting the endpoint's thread", (code: number) => this.#stopped(worker, `exit code ${code}`)),
    );
    if (this.#options.unref) worker.unref();
    return this.#port;
  }

  /** Stops the thread: it ends what runs (a grace period for clients that hold on), then exits. */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.#pendingRestart !== null) clearTimeout(this.#pendingRestart);
    const worker = this.#worker;
    if (worker === null) return;
    const closed = new Promise<void>((resolve) => {
      const onMessage = (message: FromThread) => message.kind === 'closed' && resolve();
      worker.on('message', onMessage);
      worker.once('exit', () => resolve());
      setTimeout(resolve, CLOSE_WAIT_MS).unref();
    });
    worker.postMessage({ kind: 'close' } satisfies ToThread);
    await closed;
    this.#retire(worker);
    await worker.terminate();
  }

  /**
   * Makes the thread stop listening before this call returns, so that the application's
   * listen() on the same port, which comes next, can bind. Blocks the main thread until
   * the thread has done so (a message round trip), YIELD_WAIT_MS at most.
   */
  yieldPort(): void {
    if (this.#worker === null) return;
    this.#closing = true;
    Atomics.store(this.#portYielded, 0, 0);
    this.#worker.postMessage({ kind: 'yield-port' } satisfies ToThread);
    Atomics.wait(this.#portYielded, 0, 0, YIELD_WAIT_MS);
  }

  #retire(worker: Worker): void {
    if (this.#worker !== worker) return;
    this.#worker = null;
    this.#stopServing?.();
    this.#stopServing = null;
    // What the thread asked for and that outlives it (a profile in progress) ends with it.
    this.#options.host.close();
  }

  #stopped(worker: Worker, why: string): void {
    if (this.#worker !== worker) return;
    this.#retire(worker);
    if (this.#closing) return;
    this.#restartSoon(`the maintenance endpoint's thread stopped (${why})`);
  }

  /** Restarts at once, or when the window of restarts has room again; `what` says why, on stderr. */
  #restartSoon(what: string): void {
    const now = Date.now();
    this.#restarts = this.#restarts.filter((at) => now - at < RESTART_WINDOW_MS);
    const oldest = this.#restarts[0];
    if (this.#restarts.length >= MAX_RESTARTS && oldest !== undefined) {
      const waitMs = RESTART_WINDOW_MS - (now - oldest);
      process.stderr.write(
        `opsctl: ${what}, the ${MAX_RESTARTS + 1}th time within ${RESTART_WINDOW_MS / 60_000} minutes; it stays off for ${Math.ceil(waitMs / 60_000)} minutes, then starts again. The application is not affected.\n`,
      );
      this.#pendingRestart = setTimeout(
        guarded("restarting the endpoint's thread", () => this.#restart()),
        waitMs,
      );
      this.#pendingRestart.unref();
      return;
    }
    process.stderr.write(`opsctl: ${what}; restarting it on port ${this.#port}. The application is not affected.\n`);
    this.#restart();
  }

  #restart(): void {
    this.#pendingRestart = null;
    if (this.#closing || this.#worker !== null) return;
    this.#restarts.push(Date.now());
    this.start(this.#port).catch((error: unknown) => {
      this.#restartSoon(`the maintenance endpoint could not restart on port ${this.#port} (${(error as Error).message})`);
    });
  }
}

/**
 * The thread's script: beside this module in the build. Run from the TypeScript sources
 * (the unit tests), the built one, which `pnpm test` builds first.
 */
function threadScript(): URL {
  const sibling = new URL('./endpoint-thread.js', import.meta.url);
  return existsSync(sibling) ? sibling : new URL('../../dist/thread/endpoint-thread.js', import.meta.url);
}
