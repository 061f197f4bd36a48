// Keeps what REPL input leaves running from reaching the process. Each REPL session, and
// each one-shot evaluation, runs its input inside a node:domain of its own. Node sends to
// that domain both an exception thrown later by a callback the input scheduled (timers,
// I/O callbacks, promise reactions, event emitters it created) and the rejection of a
// promise it left unhandled (Node's promise-rejection tracking records the active domain
// when a promise rejects and emits there instead of on `process`). Neither reaches the
// process's 'uncaughtException' or 'unhandledRejection' path, so the application's own
// errors keep exactly the handling it configured, and no process-wide listener is added.
// This is the mechanism node's own REPL relies on; domains are deprecated, but nothing
// else in Node attributes an asynchronous error to the code that caused it.
//
// What this cannot contain is listed in docs/operations.md#what-the-repl-cannot-contain:
// process.exit(), listeners added to the application's own emitters (they run in the
// application's context), and, under --unhandled-rejections=strict, a rejection the input
// leaves unhandled (that mode raises it as an uncaught exception before any domain sees it).
import type { Domain } from 'node:domain';
import { trimErrorStack } from './stack-trim.js';

export type DomainModule = typeof import('node:domain');

export interface Containment {
  readonly domain: Domain;
  /**
   * Runs `fn` inside the domain: what it schedules belongs to the domain. Unlike
   * domain.run(), leaves the domain even when `fn` throws, so the application's code
   * never runs inside it by accident.
   */
  run<T>(fn: () => T): T;
  /** Drops every other 'error' listener of the domain (node's REPL adds one that prints to its output). */
  onlyOwnListener(): void;
  /**
   * Gives a REPL context a queueMicrotask whose callbacks' exceptions are reported here:
   * node hands an exception thrown in a queueMicrotask callback to no domain and ends the
   * process, even in its own REPL (nodejs/node#38145).
   */
  guardMicrotasks(context: Record<string, unknown>): void;
  /**
   * Gives a REPL context a FinalizationRegistry whose cleanup callbacks' exceptions are
   * reported here: V8 runs them at a GC, outside any domain, and one that throws would
   * end the process.
   */
  guardFinalization(context: Record<string, unknown>): void;
  /**
   * Wraps the domain's other 'error' listeners (node's REPL printer): one that throws
   * (an error whose `stack` getter throws) would end the process; `onFailure` is told instead.
   */
  guardOtherListeners(onFailure: (failure: unknown) => void): void;
}

/**
 * A fresh domain whose errors go to `onError`. A throwing `onError` is swallowed: an
 * error listener that throws would end the process.
 */
export function createContainment(domains: DomainModule, onError: (error: unknown) => void): Containment {
  const domain = domains.create();
  const listener = (error: unknown) => {
    try {
      onError(error);
    } catch {
      // Reporting failed; the error is contained all the same.
    }
  };
  domain.on('error', listener);
  return {
    domain,
    run(fn) {
      domain.enter();
      try {
        return fn();
      } finally {
        domain.exit();
      }
    },
    onlyOwnListener() {
      for (const other of domain.listeners('error')) if (other !== listener) domain.off('error', other as (...args: unknown[]) => void);
    },
    guardFinalization(context) {
      const report = listener;
      context['FinalizationRegistry'] = class GuardedFinalizationRegistry<T> extends FinalizationRegistry<T> {
        constructor(cleanup: (held: T) => void) {
          if (typeof cleanup !== 'function') super(cleanup);
          else {
            super((held) => {
              try {
                cleanup(held);
              } catch (error) {
                report(error);
              }
            });
          }
        }
      };
    },
    guardOtherListeners(onFailure) {
      for (const other of domain.listeners('error')) {
        if (other === listener) continue;
        domain.off('error', other as (...args: unknown[]) => void);
        domain.on('error', (error: unknown) => {
          try {
            trimErrorStack(error);
            (other as (error: unknown) => void)(error);
          } catch (failure) {
            onFailure(failure);
          }
        });
      }
    },
    guardMicrotasks(context) {
      context['queueMicrotask'] = function queueMicrotask(callback: unknown) {
        // Anything but a function gets node's own TypeError.
        if (typeof callback !== 'function') return globalThis.queueMicrotask(callback as () => void);
        globalThis.queueMicrotask(() => {
          try {
            callback();
          } catch (error) {
            listener(error);
          }
        });
      };
    },
  };
}
