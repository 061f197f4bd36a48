// What the endpoint runs outside any request (GC samples, timers, audit flushes, sweeps,
// capture rules) goes through these guards: an exception is caught and that piece of work
// skipped, with a process warning the first time each kind of work fails. Nothing is ever
// thrown into the application: when its descriptors run out, process.memoryUsage() throws
// (EMFILE) from a GC observer, and that alone once ended the process.

const warned = new Set<string>();

/** Emits one process warning per `what`, however often it fails. Never throws. */
export function warnOnce(what: string, error: unknown): void {
  if (warned.has(what)) return;
  warned.add(what);
  try {
    process.emitWarning(`opsctl: ${what} failed and was skipped (reported once): ${describe(error)}`, { code: 'OPSCTL_BACKGROUND_FAILURE' });
  } catch {
    // Nowhere left to say it.
  }
}

/** `fn` for a timer, observer or listener: what it throws is warned about once and dropped. */
export function guarded<A extends unknown[]>(what: string, fn: (...args: A) => void): (...args: A) => void {
  return (...args) => {
    try {
      fn(...args);
    } catch (error) {
      warnOnce(what, error);
    }
  };
}

/** A promise nobody awaits yet: its rejection is warned about instead of ending the process. */
export function settledQuietly<T>(what: string, promise: Promise<T>): Promise<T | undefined> {
  return promise.catch((error: unknown) => {
    warnOnce(what, error);
    return undefined;
  });
}

function describe(error: unknown): string {
  if (error instanceof Error) return (error as NodeJS.ErrnoException).code ? `${error.message} (${(error as NodeJS.ErrnoException).code})` : error.message;
  return String(error);
}
