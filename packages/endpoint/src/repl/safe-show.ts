// Showing what REPL input produced runs the input's own code: an object's
// [util.inspect.custom] method, an error's `stack` or `message` getter. That code can
// throw (which node's REPL lets reach the process) or loop (which no time limit covers
// outside the evaluation). Here it runs inside a vm script in the session's context,
// under the same time limit as the evaluation, and whatever goes wrong is shown as text.
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { Script, type Context } from 'node:vm';
import { ownValue } from './own-value.js';
import { trimStacks } from './stack-trim.js';

export interface SafeShow {
  /** The value as node's REPL shows it (util.inspect), or why it cannot be shown. */
  value(value: unknown): string;
  /** An error's name, message and stack, each read under the limit, cut to `maxChars`. */
  error(error: unknown): { name: string; message: string; stack: string | null };
}

export function safeShow(context: Context, timeoutMs: number, options: { colors: boolean; depth?: number; maxChars: number }): SafeShow {
  // The one name the scripts reach the work by, on the context's global only while they run.
  const slot = `__opsctl_${randomBytes(6).toString('hex')}`;
  const script = new Script(`${slot}()`, { filename: 'opsctl-show' });
  const run = <T>(work: () => T): T => {
    Object.defineProperty(context, slot, { value: work, configurable: true, enumerable: false });
    try {
      return script.runInContext(context, { timeout: timeoutMs, breakOnSigint: false, displayErrors: false }) as T;
    } finally {
      delete (context as Record<string, unknown>)[slot];
    }
  };
  const clip = (text: string) => (text.length > options.maxChars ? `${text.slice(0, options.maxChars)}… (cut at ${options.maxChars} characters)` : text);
  return {
    value(value) {
      try {
        return clip(
          trimStacks(
            run(() =>
              inspect(value, {
                ...inspect.defaultOptions,
                showProxy: true,
                colors: options.colors,
                ...(options.depth === undefined ? {} : { depth: options.depth }),
              }),
            ),
          ),
        );
      } catch (error) {
        return `[the value could not be shown: ${reason(error)}]`;
      }
    },
    error(error) {
      try {
        return run(() => {
          if (typeof error !== 'object' || error === null || typeof (error as Error).message !== 'string')
            return { name: 'Thrown', message: clip(inspect(error)), stack: null };
          const { name, message, stack } = error as Error;
          return {
            name: typeof name === 'string' ? clip(name) : 'Error',
            message: clip(message),
            stack: typeof stack === 'string' ? clip(trimStacks(stack)) : null,
          };
        });
      } catch (failure) {
        return { name: 'Error', message: `an error whose details could not be read (${reason(failure)})`, stack: null };
      }
    },
  };
}

/** Why showing failed, without running anything more of the input's code. */
function reason(error: unknown): string {
  if (ownValue(error, 'code') === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return 'it ran past the time limit';
  return 'it threw';
}
