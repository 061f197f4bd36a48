// POST /eval: one-shot evaluation for `opsctl repl -e` and CI, with a JSON answer. Runs
// in a fresh REPL context holding the exposed objects; `console` output is captured
// and returned. The synchronous part is bounded by the time limit; a returned promise
// is awaited up to the same limit (it keeps running after, which JavaScript cannot stop).
// The limit is the application's repl.evalTimeoutMs; a caller may ask for less, never more.
import { PassThrough } from 'node:stream';
import { inspect } from 'node:util';
import type { EvalRequest, EvalResponse } from '../protocol.js';
import { evaluateTimed, settleWithin } from '../repl/evaluate.js';
import { isReplUnavailable, loadRepl, type ReplModule } from '../repl/load.js';
import { readJsonBody } from '../server/body.js';
import { sendError, sendJson } from '../server/replies.js';
import type { Route } from '../server/route.js';

// Returned values are for reading, not for transferring data.
const MAX_RESULT_CHARS = 100_000;

export const evalRoute: Route = {
  name: 'eval',
  method: 'POST',
  path: '/eval',
  scope: 'repl',
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
    let nodeRepl: ReplModule;
    try {
      nodeRepl = await loadRepl();
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
    const session = nodeRepl.start({ input: new PassThrough(), output: sink, prompt: '', terminal: false });
    Object.assign(session.context, repl.context);
    const started = performance.now();
    let answer: EvalResponse;
    try {
      // Boxed, or resolving with a returned promise would adopt it and wait without a limit;
      // bounded, because node's evaluator waits for a top-level await before answering.
      const evaluation = new Promise<{ value: unknown }>((resolve, reject) =>
        evaluateTimed(session.eval, session, code, session.context, 'eval', timeoutMs, (error, result) => (error ? reject(error) : resolve({ value: result }))),
      );
      let { value } = await settleWithin(evaluation, timeoutMs);
      if (isThenable(value)) value = await settleWithin(Promise.resolve(value), timeoutMs);
      answer = { ok: true, result: clip(inspect(value, { depth: 4 })), type: value === null ? 'null' : typeof value, output: '', durationMs: 0 };
    } catch (error) {
      answer = { ok: false, error: describeError(error), timedOut: (error as NodeJS.ErrnoException)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT', output: '', durationMs: 0 };
    } finally {
      session.close();
    }
    answer.output = clip(output);
    answer.durationMs = Math.round(performance.now() - started);
    ctx.auditDetail['outcome'] = answer.ok ? 'ok' : answer.timedOut ? 'timeout' : 'error';
    sendJson(res, 200, answer);
  },
};

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/** Errors from the REPL's context are not instances of this realm's Error: read them by shape. */
function describeError(error: unknown): { name: string; message: string; stack: string | null } {
  if (typeof error === 'object' && error !== null && typeof (error as Error).message === 'string') {
    const { name, message, stack } = error as Error;
    return { name: typeof name === 'string' ? name : 'Error', message, stack: typeof stack === 'string' ? stack : null };
  }
  return { name: 'Thrown', message: inspect(error), stack: null };
}

function clip(text: string): string {
  return text.length > MAX_RESULT_CHARS ? `${text.slice(0, MAX_RESULT_CHARS)}… (cut at ${MAX_RESULT_CHARS} characters)` : text;
}
