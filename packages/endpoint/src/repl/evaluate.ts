// Evaluation with a time limit. Synchronous code runs under vm's `timeout`, so a stray
// `while (true) {}` is stopped and the application goes on. Input that does not compile
// as a plain script (top-level await, incomplete or invalid input) goes to node's own
// REPL evaluator, which hoists declarations across `await` and knows when a line
// continues; its synchronous part before the first `await`, and anything an `await`
// resumes, run outside any limit: JavaScript cannot preempt them (docs/operations.md#repl).
import type { REPLEval, REPLServer } from 'node:repl';
import { Script, type Context } from 'node:vm';
import { ownValue } from './own-value.js';
import { trimErrorStack } from './stack-trim.js';

/**
 * Evaluates `code` as `server`'s evaluator would, with the synchronous part bounded by
 * `timeoutMs` (an ERR_SCRIPT_EXECUTION_TIMEOUT error after it). `{ a: 1 }` is read as
 * an object literal, as node's REPL does.
 */
export function evaluateTimed(
  nodeEval: REPLEval,
  server: REPLServer,
  code: string,
  context: Context,
  file: string,
  timeoutMs: number,
  callback: (error: Error | null, result?: unknown) => void,
): void {
  let script: Script;
  try {
    script = compile(code, file);
  } catch {
    nodeEval.call(server, code, context, file, callback);
    return;
  }
  let result: unknown;
  try {
    result = script.runInContext(context, { timeout: timeoutMs, displayErrors: false, breakOnSigint: false });
  } catch (error) {
    // The stack would show only the endpoint's own frames. (Whatever the input threw is
    // not read here: its getters are the input's code.)
    if (ownValue(error, 'code') === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      const timeout = error as Error;
      timeout.stack = `${timeout.name}: ${timeout.message}; the process goes on`;
    } else trimErrorStack(error);
    callback(error as Error);
    return;
  }
  callback(null, result);
}

function compile(code: string, filename: string): Script {
  if (/^\s*\{/.test(code) && !/;\s*$/.test(code)) {
    try {
      return new Script(`(${code.trim()}\n)`, { filename });
    } catch {
      // a block after all
    }
  }
  return new Script(code, { filename });
}

/** Waits for a promise up to `timeoutMs`; rejects with an ERR_SCRIPT_EXECUTION_TIMEOUT-coded error after it. */
export async function settleWithin<T>(value: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          Object.assign(new Error(`The evaluation did not settle within ${timeoutMs} ms; what it awaits keeps running.`), {
            code: 'ERR_SCRIPT_EXECUTION_TIMEOUT',
          }),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([value, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
