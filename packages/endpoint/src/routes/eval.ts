// POST /eval: one-shot evaluation for `opsctl repl -e` and CI, with a JSON answer. Runs
// in a fresh REPL context holding the exposed objects; `console` output is captured
// and returned. The synchronous part is bounded by the time limit; a returned promise
// is awaited up to the same limit (it keeps running after, which JavaScript cannot stop).
// The limit is the application's repl.evalTimeoutMs; a caller may ask for less, never more.
//
// What the input leaves running is contained (repl/containment.ts): an error it raises
// while it is evaluated fails the evaluation; one raised by the time the answer is sent
// (a promise it left unhandled) is returned in `uncaught`; one raised later (a timer that
// throws after the answer) is audited. None reaches the process.
import type { ReplOptions } from 'node:repl';
import { PassThrough } from 'node:stream';
import { inspect } from 'node:util';
import type { EvalError, EvalRequest, EvalResponse } from '../protocol.js';
import { createContainment, describeError } from '../repl/containment.js';
import { evaluateTimed, settleWithin } from '../repl/evaluate.js';
import { isReplUnavailable, loadRepl, type ReplRuntime } from '../repl/load.js';
import { readJsonBody } from '../server/body.js';
import { sendError, sendJson } from '../server/replies.js';
import type { Route } from '../server/route.js';

// Returned values are for reading, not for transferring data.
const MAX_RESULT_CHARS = 100_000;
/** Errors returned in `uncaught`; more are counted in the audit only. */
const MAX_UNCAUGHT = 10;

export const evalRoute: Route = {
  name: 'eval',
  method: 'POST',
  path: '/eval',
  scope: 'repl',
  gate: 'eval',
  enabled: (options) => options.repl !== null,
  feature: 'the REPL',
  async handle(req, res, ctx) {
    const repl = ctx.options.repl;
    if (repl === null) return;
    const body = await readJsonBody(req, ctx.options.limits.maxBodyBytes);
    if (!body.ok) {
      res.setHeader('connection', 'close');
      return sendError(res, body.code, { message: body.message });
    }
    const request = body.value as Partial<EvalRequest> | null;
    if (typeof request?.code !== 'string' || request.code.trim() === '') {
      return sendError(res, 'BAD_PARAM', { message: 'The body must be { "code": "<JavaScript>" } with non-empty code.' });
    }
    // The application's limit is the most a caller gets: a token holder must not be able to
    // freeze the process for longer than its owner allowed.
    const max = repl.evalTimeoutMs;
    const timeoutMs = request.timeoutMs ?? max;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > max) {
      return sendError(res, 'BAD_PARAM', {
        message: `The parameter timeoutMs must be an integer from 1 to ${max}, the application's limit (repl.evalTimeoutMs); leave it out for ${max}.`,
        details: { param: 'timeoutMs', max },
      });
    }
    const { code } = request;
    ctx.auditDetail['code'] = code.length > 2000 ? `${code.slice(0, 2000)}…` : code;
    let runtime: ReplRuntime;
    try {
      runtime = await loadRepl();
    } catch (error) {
      if (!isReplUnavailable(error)) throw error;
      ctx.auditDetail['error'] = error.message;
      return sendError(res, 'INTERNAL', { message: error.message });
    }

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
    const uncaught: EvalError[] = [];
    let uncaughtCount = 0;
    const containment = createContainment(runtime.domains, (error) => {
      if (phase === 'evaluating') return failEvaluation(error);
      const described = describeError(error, (value) => inspect(value));
      if (phase === 'answering') {
        uncaughtCount++;
        if (uncaught.length < MAX_UNCAUGHT) uncaught.push(described);
        return;
      }
      ctx.audit({ kind: 'repl', status: 200, durationMs: 0, detail: { outcome: 'uncaught', error: `${described.name}: ${described.message}`.slice(0, 2000) } });
    });
    // Node's REPL binds its evaluator to the domain it is given (an option it has always
    // read, not in its typings); its printer of the domain's errors is dropped: they go
    // into the answer instead.
    const session = runtime.repl.start({ input: new PassThrough(), output: sink, prompt: '', terminal: false, domain: containment.domain } as ReplOptions);
    containment.onlyOwnListener();
    Object.assign(session.context, repl.context);
    containment.guardMicrotasks(session.context);
    const started = performance.now();
    let answer: EvalResponse;
    try {
      // Boxed, or resolving with a returned promise would adopt it and wait without a limit;
      // bounded, because node's evaluator waits for a top-level await before answering.
      const evaluation = new Promise<{ value: unknown }>((resolve, reject) =>
        containment.run(() => evaluateTimed(session.eval, session, code, session.context, 'eval', timeoutMs, (error, result) => (error ? reject(error) : resolve({ value: result })))),
      );
      const settled = (async () => {
        let { value } = await settleWithin(evaluation, timeoutMs);
        if (isThenable(value)) value = await settleWithin(Promise.resolve(value), timeoutMs);
        return value;
      })();
      // Whichever loses the race is still handled: the endpoint's own promises never reject unhandled.
      settled.catch(() => {});
      failed.catch(() => {});
      const value = await Promise.race([settled, failed]);
      answer = { ok: true, result: clip(inspect(value, { depth: 4 })), type: value === null ? 'null' : typeof value, output: '', durationMs: 0 };
    } catch (error) {
      answer = { ok: false, error: describeError(error, (value) => inspect(value)), timedOut: (error as NodeJS.ErrnoException)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT', output: '', durationMs: 0 };
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
    ctx.auditDetail['outcome'] = answer.ok ? 'ok' : answer.timedOut ? 'timeout' : 'error';
    if (uncaughtCount > 0) ctx.auditDetail['uncaught'] = uncaughtCount;
    sendJson(res, 200, answer);
  },
};

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

function clip(text: string): string {
  return text.length > MAX_RESULT_CHARS ? `${text.slice(0, MAX_RESULT_CHARS)}… (cut at ${MAX_RESULT_CHARS} characters)` : text;
}
