// node:repl (and node:domain, which it loads) are loaded when the first session or
// evaluation starts, never at import: once node:domain is loaded, the application can no
// longer call process.setUncaughtExceptionCaptureCallback
// (ERR_DOMAIN_CANNOT_SET_UNCAUGHT_EXCEPTION_CAPTURE), even with the REPL off. Anywhere
// else, import only types from node:repl and node:domain.
import type * as NodeRepl from 'node:repl';
import type { DomainModule } from './containment.js';

type ReplModule = typeof NodeRepl;

/** What a REPL session or evaluation needs, loaded together. */
export interface ReplRuntime {
  repl: ReplModule;
  domains: DomainModule;
}

/** Set on the error loadRepl() rejects with when this process cannot run node's REPL. */
export const REPL_UNAVAILABLE = 'ERR_OPSCTL_REPL_UNAVAILABLE';

const UNAVAILABLE_MESSAGE =
  "The REPL cannot run in this process: the application set process.setUncaughtExceptionCaptureCallback, and node's REPL needs domains, which cannot load alongside it.";

/**
 * Why node's REPL cannot load in this process, without loading it; null when it can.
 * A capture callback and node:domain exclude each other: with one set, domain was not
 * loaded and now refuses to load (ERR_DOMAIN_CALLBACK_NOT_AVAILABLE).
 */
export function replUnavailableReason(): string | null {
  return process.hasUncaughtExceptionCaptureCallback() ? UNAVAILABLE_MESSAGE : null;
}

/**
 * node:repl and node:domain. Rejects with a REPL_UNAVAILABLE-coded error, its message
 * meant for the caller, when the application has set an uncaught-exception capture
 * callback. A failed load stays failed for the life of the process.
 */
export async function loadRepl(): Promise<ReplRuntime> {
  try {
    const repl = await import('node:repl');
    return { repl, domains: await import('node:domain') };
  } catch (error) {
    if ((error as NodeJS.ErrnoException | null)?.code !== 'ERR_DOMAIN_CALLBACK_NOT_AVAILABLE') throw error;
    throw Object.assign(new Error(UNAVAILABLE_MESSAGE, { cause: error }), { code: REPL_UNAVAILABLE });
  }
}

/** True for loadRepl()'s refusal, whose message can be shown to the caller as it is. */
export function isReplUnavailable(error: unknown): error is Error {
  return (error as NodeJS.ErrnoException | null)?.code === REPL_UNAVAILABLE;
}
