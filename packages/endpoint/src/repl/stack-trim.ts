// What REPL input shows of a stack is the input's own frames and the application's: the
// frames below them (node's vm, REPL, readline, domain and event machinery, and the
// endpoint's own evaluation code) are the same on every line and say nothing about the
// application. Node's own REPL cuts its frames the same way; it does not know ours.
import { fileURLToPath } from 'node:url';
import { ownValue } from './own-value.js';

/** The endpoint package's own directory (dist/ or src/), whose frames are cut. */
const ENDPOINT_DIR = fileURLToPath(new URL('..', import.meta.url));
/** Frames of node's machinery that runs every REPL line. */
const REPL_MACHINERY = /[( ]node:(?:vm|repl|domain|events|internal\/readline\/)/;

/** `text` (a stack, or an inspected value holding stacks) without the frames of node's and the endpoint's machinery. */
export function trimStacks(text: string): string {
  if (!text.includes('    at ')) return text;
  return text
    .split('\n')
    .filter((line) => !/^\s+at /.test(line) || !(REPL_MACHINERY.test(line) || line.includes(ENDPOINT_DIR)))
    .join('\n');
}

/**
 * Trims the stack of an error REPL input raised, in place, before node's REPL prints it
 * (as node's REPL trims its own frames): only an own, writable string `stack`, so none
 * of the input's code (a getter, a Proxy) runs.
 */
export function trimErrorStack(error: unknown): void {
  const stack = ownValue(error, 'stack');
  if (typeof stack !== 'string') return;
  try {
    (error as { stack: string }).stack = trimStacks(stack);
  } catch {
    // frozen: shown as it is
  }
}
