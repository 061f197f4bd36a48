// Refusals counted by code for GET /metrics, every one of them (the audit writes only
// some of a flood's), so that a flood shows on a dashboard. The connections the server
// drops under its limits count as CONNECTION_DROPPED.

export class RefusalCounter {
  readonly #byCode = new Map<string, number>();

  count(code: string): void {
    this.#byCode.set(code, (this.#byCode.get(code) ?? 0) + 1);
  }

  /** The counts so far, by code. */
  counts(): ReadonlyMap<string, number> {
    return this.#byCode;
  }
}
