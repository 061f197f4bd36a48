// The Host across threads: serveHost() answers the endpoint's thread on the main thread
// with a LocalHost; RemoteHost is what the routes on the endpoint's thread call. A call
// is refused at once, without waiting, when the main thread's event loop is blocked
// (`refuseWhile`): a request that needs the main thread would only hang.
import { Transform, type Duplex } from 'node:stream';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { LeakEvent } from '../protocol/index.js';
import { PortDuplex } from '../thread/port-duplex.js';
import { serveRpc, Transfer, type RpcClient, type RpcHandler } from '../thread/rpc.js';
import type { Caller } from '../audit.js';
import type { Host, ReplSessionRequest } from './host.js';
import type { LocalHost } from './local-host.js';

/** Answers the Host's calls arriving on `port` with `host`; returns the stop. */
export function serveHost(port: MessagePort, host: LocalHost): () => void {
  const plain =
    (call: (...args: never[]) => Promise<unknown>): RpcHandler =>
    (args) =>
      call(...(args as never[]));
  // Documents move to the endpoint's thread rather than being copied onto its small heap.
  const moved = (bytes: Uint8Array) => new Transfer(bytes, [bytes.buffer as ArrayBuffer]);
  const handlers: Record<string, RpcHandler> = {
    memory: plain(() => host.memory()),
    metrics: plain(() => host.metrics()),
    report: async () => moved(await host.report()),
    workers: plain(() => host.workers()),
    workerNames: plain(() => host.workerNames()),
    snapshotPlan: plain((worker: string | null) => host.snapshotPlan(worker)),
    writeSnapshot: plain((dir: string, name: string, worker: string | null) => host.writeSnapshot(dir, name, worker)),
    leakStatus: plain((gc: boolean) => host.leakStatus(gc)),
    watchLeaks: (_args, call) => host.watchLeaks((event) => call.emit(event), call.signal),
    replUnavailable: plain(() => host.replUnavailable()),
    runRepl: ([stream, request], call) => host.runRepl(new PortDuplex(stream as MessagePort), request as ReplSessionRequest, call.signal),
    evaluate: plain((code: string, timeoutMs: number, caller: Caller) => host.evaluate(code, timeoutMs, caller)),
    startProfile: plain((kind: 'cpu' | 'heap', interval: number) => host.startProfile(kind, interval)),
    stopProfile: async ([id]) => moved(await host.stopProfile(id as number)),
    cancelProfile: plain((id: number) => host.cancelProfile(id)),
    actions: plain(() => host.actions()),
    runAction: async ([name, params, caller], call) => {
      const run = await host.runAction(name as string, params, caller as Caller, call.signal);
      return run.kind === 'ok' ? new Transfer(run, [run.resultJson.buffer as ArrayBuffer]) : run;
    },
    captureStatus: plain(() => host.captureStatus()),
    captures: plain(() => host.captures()),
    findCapture: plain((id: string) => host.findCapture(id)),
    removeCapture: plain((id: string) => host.removeCapture(id)),
  };
  return serveRpc(port, handlers);
}

/** A loop this late is running JavaScript now: a Ctrl-C typed meanwhile could not reach its REPL line. */
const BUSY_AFTER_MS = 300;
const CTRL_C = 0x03;
const CR = 0x0d;
const LF = 0x0a;

export class RemoteHost implements Host {
  readonly #rpc: RpcClient;
  readonly #refuseWhile: () => Error | null;
  readonly #mainLagMs: () => number;

  /**
   * `refuseWhile` returns the error to fail a call with while the main thread cannot
   * answer, else null; `mainLagMs` says how long ago its event loop last turned.
   */
  constructor(rpc: RpcClient, refuseWhile: () => Error | null, mainLagMs: () => number) {
    this.#rpc = rpc;
    this.#refuseWhile = refuseWhile;
    this.#mainLagMs = mainLagMs;
  }

  #call<T>(method: string, args: unknown[], options?: Parameters<RpcClient['call']>[2]): Promise<T> {
    const refusal = this.#refuseWhile();
    if (refusal !== null) return Promise.reject(refusal);
    return this.#rpc.call<T>(method, args, options);
  }

  memory() {
    return this.#call<Awaited<ReturnType<Host['memory']>>>('memory', []);
  }
  metrics() {
    return this.#call<Awaited<ReturnType<Host['metrics']>>>('metrics', []);
  }
  report() {
    return this.#call<Uint8Array>('report', []);
  }
  workers() {
    return this.#call<Awaited<ReturnType<Host['workers']>>>('workers', []);
  }
  workerNames() {
    return this.#call<Awaited<ReturnType<Host['workerNames']>>>('workerNames', []);
  }
  snapshotPlan(worker: string | null) {
    return this.#call<Awaited<ReturnType<Host['snapshotPlan']>>>('snapshotPlan', [worker]);
  }
  writeSnapshot(dir: string, name: string, worker: string | null) {
    return this.#call<Awaited<ReturnType<Host['writeSnapshot']>>>('writeSnapshot', [dir, name, worker]);
  }
  leakStatus(gc: boolean) {
    return this.#call<Awaited<ReturnType<Host['leakStatus']>>>('leakStatus', [gc]);
  }
  watchLeaks(onEvent: (event: LeakEvent) => void, signal: AbortSignal) {
    return this.#call<void>('watchLeaks', [], { signal, onEvent: (event) => onEvent(event as LeakEvent) });
  }
  replUnavailable() {
    return this.#call<string | null>('replUnavailable', []);
  }

  /** The session's bytes cross to the main thread on a channel of their own; `stream` is the client's socket here. */
  async runRepl(stream: Duplex, request: ReplSessionRequest, signal: AbortSignal): Promise<{ lines: number }> {
    const { port1, port2 } = new MessageChannel();
    const bridge = new PortDuplex(port1);
    stream.pipe(this.#ctrlCWhileBusy(stream)).pipe(bridge).pipe(stream);
    const endBoth = () => {
      stream.destroy();
      bridge.destroy();
    };
    stream.once('close', endBoth);
    bridge.once('close', endBoth);
    try {
      return await this.#call<{ lines: number }>('runRepl', [port2, request], { signal, transfer: [port2] });
    } finally {
      endBoth();
    }
  }

  /**
   * A Ctrl-C typed while the main thread runs JavaScript would reach the session only
   * after the line it meant to stop, and there read as a Ctrl-C at the prompt ("press
   * Ctrl+C again to exit"). It is taken out here, and the operator told why nothing stops.
   * A line entered meanwhile waits for the main thread: the operator is told that once.
   */
  #ctrlCWhileBusy(client: Duplex): Transform {
    let toldOfWait = false;
    return new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        const lagMs = this.#mainLagMs();
        if (lagMs < BUSY_AFTER_MS) {
          toldOfWait = false;
          return done(null, chunk);
        }
        if (!toldOfWait && (chunk.includes(CR) || chunk.includes(LF))) {
          toldOfWait = true;
          client.write(`\r\n(the main thread has been running JavaScript for ${(lagMs / 1000).toFixed(1)} s: this line runs when it is free)\r\n`);
        }
        if (!chunk.includes(CTRL_C)) return done(null, chunk);
        client.write(
          '\r\n(Ctrl-C: the main thread is running JavaScript, which cannot be stopped from outside its thread without risking the process; the line ends by itself or at its time limit)\r\n',
        );
        done(null, Buffer.from(chunk.filter((byte) => byte !== CTRL_C)));
      },
    });
  }

  evaluate(code: string, timeoutMs: number, caller: Caller) {
    return this.#call<Awaited<ReturnType<Host['evaluate']>>>('evaluate', [code, timeoutMs, caller]);
  }
  startProfile(kind: 'cpu' | 'heap', interval: number) {
    return this.#call<Awaited<ReturnType<Host['startProfile']>>>('startProfile', [kind, interval]);
  }
  stopProfile(id: number) {
    return this.#call<Uint8Array>('stopProfile', [id]);
  }
  /** Sent even while the main thread is blocked: it stops a profile when it can, rather than never. */
  cancelProfile(id: number) {
    return this.#rpc.call<void>('cancelProfile', [id]);
  }
  actions() {
    return this.#call<Awaited<ReturnType<Host['actions']>>>('actions', []);
  }
  runAction(name: string, params: unknown, caller: Caller, signal: AbortSignal) {
    return this.#call<Awaited<ReturnType<Host['runAction']>>>('runAction', [name, params, caller], { signal });
  }
  captureStatus() {
    return this.#call<Awaited<ReturnType<Host['captureStatus']>>>('captureStatus', []);
  }
  captures() {
    return this.#call<Awaited<ReturnType<Host['captures']>>>('captures', []);
  }
  findCapture(id: string) {
    return this.#call<Awaited<ReturnType<Host['findCapture']>>>('findCapture', [id]);
  }
  removeCapture(id: string) {
    return this.#call<Awaited<ReturnType<Host['removeCapture']>>>('removeCapture', [id]);
  }
}
