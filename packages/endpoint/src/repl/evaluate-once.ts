// One-shot evaluation (POST /eval, `opsctl repl -e`): the input runs in a fresh REPL
// context holding the exposed objects; `console` output is captured and returned. The
// synchronous part is bounded by the time limit; a returned promise is awaited up to the
// same limit (it keeps running after, which JavaScript cannot stop).
//
// What the input leaves running is contained (containment.ts): an error it raises while
// it is evaluated fails the evaluation; one raised by the time the answer is ready (a
// promise it left unhandled) is returned in `uncaught`; one raised later (a timer that
// throws after the answer) goes to `onLateError`. None reaches the process.
import type { ReplOptions } from 'node:repl';
import { PassThrough } from 'node:stream';
import { types } from 'node:util';
import type { EvalError as EvalErrorBody, EvalResponse } from '../protocol/index.js';
import { createContainment } from './containment.js';
import { ownValue } from './own-value.js';
import { evaluateTimed, settleWithin } from './evaluate.js';
import type { ReplRuntime } from './load.js';
import { safeShow } from './safe-show.js';

// Returned values are for reading, not for transferring data.
const MAX_RESULT_CHARS = 100_000;
/** Errors returned in `uncaught`; more are counted only. */
const MAX_UNCAUGHT = 10;

export interface OnceResult {
  answer: EvalResponse;
  outcome: 'ok' | 'error' | 'timeout';
  /** Errors raised after the evaluation and before the answer, counted even past those returned. */
  uncaught: number;
}

export async function evaluateOnce(
  runtime: ReplRuntime,
  code: string,
  timeoutMs: number,
  exposed: Record<string, unknown>,
  onLateError: (error: EvalErrorBody) => void,
): Promise<OnceResult> {
  // A REPLServer builds the same context an interactive session gets (require, console
  // writing to the session), here writing into a buffer.
  let output = '';
  const sink = new PassThrough().setEncoding('utf8');
  sink.on('data', (chunk: string) => {
    if (output.length < MAX_RESULT_CHARS) output += chunk;
  });

  // Where an error the input raises through its domain goes, by when it comes.
  let phase: 'evaluating' | 'answering' | 'answered' = 'evaluating';
  let failEvaluation: (error: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => (failEvaluation = reject));
  const uncaught: EvalErrorBody[] = [];
  let uncaughtCount = 0;
  // Showing the result or an error runs the input's code too (custom inspect, getters): bounded alike.
  let show: ReturnType<typeof safeShow> | null = null;
  const describe = (error: unknown): EvalErrorBody =>
    show?.error(error) ?? { name: 'Error', message: 'an error raised before the evaluation began', stack: null };
  const containment = createContainment(runtime.domains, (error) => {
    if (phase === 'evaluating') return failEvaluation(error);
    const described = describe(error);
    if (phase === 'answered') return onLateError(described);
    uncaughtCount++;
    if (uncaught.length < MAX_UNCAUGHT) uncaught.push(described);
  });
  // Node's REPL binds its evaluator to the domain it is given (an option it has always
  // read, not in its typings); its printer of the domain's errors is dropped: they go
  // into the answer instead.
  const session = runtime.repl.start({ input: new PassThrough(), output: sink, prompt: '', terminal: false, domain: containment.domain } as ReplOptions);
  containment.onlyOwnListener();
  Object.assign(session.context, exposed);
  containment.guardMicrotasks(session.context);
  containment.guardFinalization(session.context);
  show = safeShow(session.context, timeoutMs, { colors: false, depth: 4, maxChars: MAX_RESULT_CHARS });
  const started = performance.now();
  let answer: EvalResponse;
  try {
    // Boxed, or resolving with a returned promise would adopt it and wait without a limit;
    // bounded, because node's evaluator waits for a top-level await before answering.
    const evaluation = new Promise<{ value: unknown }>((resolve, reject) =>
      containment.run(() =>
        evaluateTimed(session.eval, session, code, session.context, 'eval', timeoutMs, (error, result) => (error ? reject(error) : resolve({ value: result }))),
      ),
    );
    // Boxed throughout: resolving a promise with a thenable runs its `then`, the input's
    // code, outside any limit. Only a real promise is awaited.
    const settled = (async () => {
      let { value } = await settleWithin(evaluation, timeoutMs);
      if (types.isPromise(value)) value = await settleWithin(value, timeoutMs);
      return { value };
    })();
    // Whichever loses the race is still handled: the endpoint's own promises never reject unhandled.
    settled.catch(() => {});
    failed.catch(() => {});
    const { value } = await Promise.race([settled, failed]);
    answer = { ok: true, result: show.value(value), type: value === null ? 'null' : typeof value, output: '', durationMs: 0 };
  } catch (error) {
    answer = { ok: false, error: describe(error), timedOut: ownValue(error, 'code') === 'ERR_SCRIPT_EXECUTION_TIMEOUT', output: '', durationMs: 0 };
  } finally {
    session.close();
  }
  // One turn of the event loop: node reports the promises the input left rejected and
  // unhandled once the microtasks have run, and they belong in this answer.
  phase = 'answering';
  await new Promise((resolve) => setImmediate(resolve));
  phase = 'answered';
  answer.output = clip(output);
  answer.durationMs = Math.round(performance.now() - started);
  if (uncaught.length > 0) answer.uncaught = uncaught;
  return { answer, outcome: answer.ok ? 'ok' : answer.timedOut ? 'timeout' : 'error', uncaught: uncaughtCount };
}

function clip(text: string): string {
  return text.length > MAX_RESULT_CHARS ? `${text.slice(0, MAX_RESULT_CHARS)}… (cut at ${MAX_RESULT_CHARS} characters)` : text;
}
