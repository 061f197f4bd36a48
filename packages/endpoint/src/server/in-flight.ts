// The handlers running now, so close() can abort them, wait until they have ended, and
// past a grace period end those that did not listen.

interface Running {
  controller: AbortController;
  destroy: () => void;
}

export class InFlight {
  readonly #running = new Set<Running>();
  #waiters: (() => void)[] = [];

  /**
   * Registers a running handler: its signal aborts on abortAll(); `destroy` ends its
   * response or socket by force on destroyAll(). Call the returned `end` when it ends.
   */
  start(destroy: () => void): { signal: AbortSignal; end: () => void } {
    const running: Running = { controller: new AbortController(), destroy };
    this.#running.add(running);
    return {
      signal: running.controller.signal,
      end: () => {
        running.controller.abort();
        this.#running.delete(running);
        if (this.#running.size === 0) this.#wake();
      },
    };
  }

  abortAll(): void {
    for (const running of this.#running) running.controller.abort();
  }

  destroyAll(): void {
    for (const running of this.#running) running.destroy();
  }

  /** Resolves once no handler is running. */
  whenEmpty(): Promise<void> {
    if (this.#running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
