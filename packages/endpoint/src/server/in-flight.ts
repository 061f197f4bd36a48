// The handlers running now, so close() can abort them and wait until they have ended.

export class InFlight {
  readonly #controllers = new Set<AbortController>();
  #waiters: (() => void)[] = [];

  /** Registers a running handler; its signal aborts on abortAll(). Call the returned function when it ends. */
  start(): { signal: AbortSignal; end: () => void } {
    const controller = new AbortController();
    this.#controllers.add(controller);
    return {
      signal: controller.signal,
      end: () => {
        controller.abort();
        this.#controllers.delete(controller);
        if (this.#controllers.size === 0) this.#wake();
      },
    };
  }

  abortAll(): void {
    for (const controller of this.#controllers) controller.abort();
  }

  /** Resolves once no handler is running. */
  whenEmpty(): Promise<void> {
    if (this.#controllers.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  get size(): number {
    return this.#controllers.size;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
