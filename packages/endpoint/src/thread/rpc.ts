// Calls from the endpoint's thread to the application's main thread over a MessagePort:
// a method name and structured-cloneable arguments go one way, one result or error comes
// back. A call can be cancelled (its handler's signal aborts: the HTTP client went away)
// and can send events before its result (a live stream). Ports listed in `transfer`
// move to the other side (a REPL session's byte stream).
import type { MessagePort, Transferable } from 'node:worker_threads';

type Request = { kind: 'call'; id: number; method: string; args: unknown[] } | { kind: 'cancel'; id: number };

type Reply =
  | { kind: 'result'; id: number; value: unknown }
  | { kind: 'error'; id: number; message: string; code: string | undefined }
  | { kind: 'event'; id: number; value: unknown };

export interface CallOptions {
  signal?: AbortSignal;
  /** Called with each event the handler emits before its result. */
  onEvent?: (value: unknown) => void;
  transfer?: readonly Transferable[];
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  onEvent: ((value: unknown) => void) | undefined;
}

export class RpcClient {
  readonly #port: MessagePort;
  readonly #pending = new Map<number, Pending>();
  #next = 1;
  #closedReason: string | null = null;

  constructor(port: MessagePort) {
    this.#port = port;
    port.on('message', (reply: Reply) => this.#receive(reply));
    port.once('close', () => this.close("the main thread's side of the endpoint has gone"));
  }

  call<T>(method: string, args: unknown[], options: CallOptions = {}): Promise<T> {
    if (this.#closedReason !== null) return Promise.reject(Object.assign(new Error(this.#closedReason), { code: 'ERR_OPSCTL_RPC_CLOSED' }));
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      const { signal } = options;
      const cancel = () => this.#port.postMessage({ kind: 'cancel', id } satisfies Request);
      this.#pending.set(id, {
        resolve: (value) => {
          signal?.removeEventListener('abort', cancel);
          resolve(value as T);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', cancel);
          reject(error);
        },
        onEvent: options.onEvent,
      });
      this.#port.postMessage({ kind: 'call', id, method, args } satisfies Request, options.transfer as Transferable[] | undefined);
      if (signal?.aborted) cancel();
      else signal?.addEventListener('abort', cancel, { once: true });
    });
  }

  /** Rejects every pending call; later calls reject at once. */
  close(reason: string): void {
    if (this.#closedReason !== null) return;
    this.#closedReason = reason;
    for (const pending of this.#pending.values()) pending.reject(Object.assign(new Error(reason), { code: 'ERR_OPSCTL_RPC_CLOSED' }));
    this.#pending.clear();
  }

  #receive(reply: Reply): void {
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    if (reply.kind === 'event') {
      pending.onEvent?.(reply.value);
      return;
    }
    this.#pending.delete(reply.id);
    if (reply.kind === 'result') pending.resolve(reply.value);
    else pending.reject(Object.assign(new Error(reply.message), { code: reply.code }));
  }
}

/**
 * A result whose bytes move to the caller instead of being copied: a large document
 * (a report, a profile, an action's JSON) stays off the endpoint thread's small heap.
 */
export class Transfer<T> {
  constructor(
    readonly value: T,
    readonly list: readonly Transferable[],
  ) {}
}

/** What a handler gets besides its arguments. */
interface RpcCall {
  /** Aborts when the caller cancels, or the port closes. */
  signal: AbortSignal;
  /** Sends an event to the caller before the result. */
  emit(value: unknown): void;
}

export type RpcHandler = (args: unknown[], call: RpcCall) => unknown;

/** Answers calls on `port` with `handlers`; returns the function that stops and aborts what runs. */
export function serveRpc(port: MessagePort, handlers: Readonly<Record<string, RpcHandler>>): () => void {
  const running = new Map<number, AbortController>();
  const reply = (message: Reply, transfer?: readonly Transferable[]) => {
    try {
      port.postMessage(message, transfer as Transferable[] | undefined);
    } catch (error) {
      // A result that cannot cross (a function in it) must still answer its call; a
      // closed port has nobody waiting.
      if (message.kind === 'error') return;
      try {
        port.postMessage({
          kind: 'error',
          id: message.id,
          message: `the main thread's answer could not be sent: ${error instanceof Error ? error.message : String(error)}`,
          code: 'ERR_OPSCTL_RPC_UNSENDABLE',
        } satisfies Reply);
      } catch {
        // closed
      }
    }
  };
  const onMessage = (request: Request) => {
    if (request.kind === 'cancel') return running.get(request.id)?.abort();
    const { id, method, args } = request;
    const controller = new AbortController();
    running.set(id, controller);
    const handler = handlers[method];
    Promise.resolve()
      .then(() => {
        if (handler === undefined) throw new Error(`no such call: ${method}`);
        return handler(args, { signal: controller.signal, emit: (value) => reply({ kind: 'event', id, value }) });
      })
      .then(
        (value) => (value instanceof Transfer ? reply({ kind: 'result', id, value: value.value }, value.list) : reply({ kind: 'result', id, value })),
        (error: unknown) =>
          reply({ kind: 'error', id, message: error instanceof Error ? error.message : String(error), code: (error as NodeJS.ErrnoException | null)?.code }),
      )
      .finally(() => running.delete(id));
  };
  const stop = () => {
    port.off('message', onMessage);
    for (const controller of running.values()) controller.abort();
    running.clear();
  };
  port.on('message', onMessage);
  port.once('close', stop);
  return stop;
}
