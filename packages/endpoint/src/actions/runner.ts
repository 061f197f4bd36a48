// Running an application action: one concurrency gate per action, a time limit, the
// caller's signal passed in, and the outcome described for the route: a JSON-safe
// result, the action's own error, or a timeout. The application goes on whatever the
// action does, except block the event loop: synchronous code cannot be preempted.
//
// A run holds its slot until the action's own promise settles, not until its caller is
// answered: after a timeout or an abort the action may still be running (its signal is
// only a request to stop), and freeing the slot then would let callers start copies of
// it beyond `concurrency`. An action that never settles keeps its slot for the life of
// the process, and its callers are told BUSY.
import type { ActionInfo } from '../protocol/index.js';
import { Gate } from '../gate.js';
import { describeAction, type ActionParams, type ResolvedAction } from './definitions.js';

// Actions usually take seconds: a refused caller may try again soon.
const ACTION_RETRY_AFTER_S = 5;
/** An action's error message is cut here: a sentence, not a dump. */
const ERROR_MESSAGE_CHARS = 1_000;
/**
 * A result's JSON is at most this: it crosses to the endpoint's thread, whose heap is
 * small, and an action that makes more should write a file and return where.
 */
const MAX_RESULT_BYTES = 16 * 1024 * 1024;

type ActionOutcome =
  /** `resultJson` is what the action returned, as JSON text (undefined becomes null). */
  | { kind: 'ok'; resultJson: string; durationMs: number }
  | { kind: 'failed'; error: { name: string; message: string; code: string | null }; durationMs: number }
  | { kind: 'timeout'; durationMs: number }
  /** The caller went away or the endpoint is closing: nobody to answer. */
  | { kind: 'aborted'; durationMs: number };

export class ActionRunner {
  readonly #actions: ReadonlyMap<string, ResolvedAction>;
  readonly #gates = new Map<string, Gate>();

  constructor(actions: ReadonlyMap<string, ResolvedAction>) {
    this.#actions = actions;
    for (const action of actions.values()) {
      this.#gates.set(
        action.name,
        new Gate({
          max: action.concurrency,
          retryAfterSeconds: ACTION_RETRY_AFTER_S,
          busyMessage: `The action "${action.name}" is already running${action.concurrency > 1 ? ` ${action.concurrency} times` : ''}; at most ${action.concurrency} at once.`,
        }),
      );
    }
  }

  list(): ActionInfo[] {
    return [...this.#actions.values()].map(describeAction);
  }

  get(name: string): ResolvedAction | undefined {
    return this.#actions.get(name);
  }

  gate(name: string): Gate | undefined {
    return this.#gates.get(name);
  }

  /**
   * A slot in the action's concurrency gate, or null when the action already runs as
   * often as it may (gate(name) says how to refuse). Reserved before the request's body
   * is read, so a busy action is refused cheaply.
   */
  reserve(action: ResolvedAction): ActionSlot | null {
    const gate = this.#gates.get(action.name);
    if (gate === undefined) throw new Error(`opsctl endpoint: no action "${action.name}"`);
    const release = gate.tryEnter();
    if (release === null) return null;
    let used = false;
    return {
      run: (params, caller, signal) => {
        if (used) throw new Error(`opsctl endpoint: a slot of the action "${action.name}" was used twice`);
        used = true;
        return run(action, params, caller, signal, release);
      },
      discard: () => {
        if (!used) release();
      },
    };
  }
}

export interface ActionSlot {
  /**
   * Runs the action until it settles, its time limit passes or `signal` aborts. The
   * slot is freed only when the action's own promise settles, which may be long after
   * this one (timeout, abort) or never.
   */
  run(params: ActionParams, caller: string, signal: AbortSignal): Promise<ActionOutcome>;
  /** Frees the slot if the action was never run (its request was refused); else does nothing. */
  discard(): void;
}

async function run(action: ResolvedAction, params: ActionParams, caller: string, signal: AbortSignal, release: () => void): Promise<ActionOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`The action "${action.name}" did not finish within ${action.timeoutMs} ms.`));
  }, action.timeoutMs);
  const forward = () => controller.abort(signal.reason);
  signal.addEventListener('abort', forward, { once: true });
  const stopped = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }));
  stopped.catch(() => {}); // settled by the race below, or never looked at
  try {
    // A throw inside run() becomes a rejection here, so the slot is freed for it too.
    const running = Promise.resolve().then(() => action.run(params, { signal: controller.signal, caller }));
    running.then(release, release);
    const value = await Promise.race([running, stopped]);
    let json: string | undefined;
    try {
      json = JSON.stringify(value ?? null);
    } catch (error) {
      return failed(new Error(`it returned a value that cannot be sent as JSON (${(error as Error).message})`), elapsed());
    }
    // A function or a symbol stringifies to undefined: nothing to send.
    json ??= 'null';
    const bytes = Buffer.byteLength(json);
    if (bytes > MAX_RESULT_BYTES) {
      return failed(
        new Error(
          `it returned ${(bytes / 1048576).toFixed(1)} MiB of JSON, over the ${MAX_RESULT_BYTES / 1048576} MiB a result may be; an action with more to give should write a file and return its path`,
        ),
        elapsed(),
      );
    }
    return { kind: 'ok', resultJson: json, durationMs: elapsed() };
  } catch (error) {
    if (timedOut) return { kind: 'timeout', durationMs: elapsed() };
    if (signal.aborted) return { kind: 'aborted', durationMs: elapsed() };
    return failed(error, elapsed());
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', forward);
  }
}

function failed(error: unknown, durationMs: number): ActionOutcome {
  const described =
    error instanceof Error
      ? {
          name: error.name,
          message: error.message,
          code: typeof (error as NodeJS.ErrnoException).code === 'string' ? String((error as NodeJS.ErrnoException).code) : null,
        }
      : { name: 'Thrown', message: String(error), code: null };
  const message = described.message.length > ERROR_MESSAGE_CHARS ? `${described.message.slice(0, ERROR_MESSAGE_CHARS)}…` : described.message;
  return { kind: 'failed', error: { ...described, message: message || '(no message)' }, durationMs };
}
