// What callers without a token cause is summarised, so that a flood of them writes a
// bounded amount of audit however fast it comes (one JSON line per anonymous 401 was
// 3.6 MB/s of stderr at 18k refusals/s). Per address and per interval, the first such
// event is written as it is; the rest are counted, and one `summary` event with the
// counts is written when the interval ends. Addresses are tracked up to a bound; past it
// they share one `*` entry.
//
// Summarised: refusals with no token presented (401 AUTH_REQUIRED, the 400/408/431 of
// requests that never parsed, 503 while closing), connections the server dropped under
// its connection limits, and requests to a route the application made public.
// The refusal of a presented token (AUTH_INVALID, AUTH_MALFORMED) is written in full, as
// each is a guess worth reading, up to FULL_TOKEN_REFUSALS_PER_SECOND across all
// addresses; past that (guesses from more addresses than the per-address throttle can
// slow) they are summarised too. Each also counts towards its address's throttle, whose
// own refusals are written at the 1st, 10th, 100th… of a block.
// A valid token's refusals before its request reached a handler (403 for a scope it
// lacks, 404, 429 while busy, 503 past its connections) are summarised the same way, per
// token: the weakest token (the one Prometheus holds) could otherwise write megabytes a
// second and crowd out the events that matter when stderr is slow.
// Never summarised: what an authenticated caller's requests did, REPL lines, captures.
import { auditTime, type AuditEvent, type AuditSink } from './audit.js';
import { guarded } from './guard.js';
import type { ErrorCode } from './protocol/index.js';

const SUMMARY_INTERVAL_MS = 10_000;
const SUMMARY_MAX_ADDRESSES = 1_000;
const FULL_TOKEN_REFUSALS_PER_SECOND = 20;

const SUMMARISED_CODES: ReadonlySet<ErrorCode | undefined> = new Set<ErrorCode | undefined>([
  'AUTH_REQUIRED',
  'BAD_REQUEST',
  'REQUEST_TIMEOUT',
  'HEADERS_TOO_LARGE',
  'SHUTTING_DOWN',
  'EXPECTATION_FAILED',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
]);
const TOKEN_REFUSALS: ReadonlySet<ErrorCode | undefined> = new Set<ErrorCode | undefined>(['AUTH_INVALID', 'AUTH_MALFORMED']);

interface Entry {
  /** performance.now() of the first event of this interval. */
  since: number;
  counts: Map<string, number>;
  /** The token whose refusals these are; null for callers without one (grouped by address). */
  token: string | null;
  address: string;
}

export class AuditSummary {
  readonly #sink: AuditSink;
  readonly #intervalMs: number;
  readonly #maxAddresses: number;
  readonly #entries = new Map<string, Entry>();
  #timer: NodeJS.Timeout | null = null;
  /** The second (Date.now() / 1000, floored) the full token refusals are counted in, and how many. */
  #tokenRefusalSecond = 0;
  #tokenRefusalsWritten = 0;

  constructor(sink: AuditSink, intervalMs = SUMMARY_INTERVAL_MS, maxAddresses = SUMMARY_MAX_ADDRESSES) {
    this.#sink = sink;
    this.#intervalMs = intervalMs;
    this.#maxAddresses = maxAddresses;
  }

  /** The sink to hand the server: summarises what it should, passes the rest through. */
  readonly record: AuditSink = (event) => {
    if (TOKEN_REFUSALS.has(event.code) && event.token === null && this.#mayWriteTokenRefusal()) return this.#sink(event);
    if (event.kind === 'refusal' && event.token !== null) {
      // A group per token, apart from addresses (a NUL cannot be in either).
      if (this.#count(`\u0000${event.token}\u0000${event.status} ${event.code ?? ''}`, `${event.status} ${event.code ?? ''}`, event.token, event.address))
        this.#sink(event);
      return;
    }
    if (!isSummarised(event)) return this.#sink(event);
    const key = event.kind === 'refusal' ? `${event.status} ${event.code ?? ''}` : `${event.status} ${event.route ?? event.path}`;
    if (this.#count(event.address, key, null, event.address)) this.#sink(event);
  };

  /** Counts a connection the server let go without an answer (its connection limits). */
  dropped(address: string, reason: string): void {
    if (this.#count(address, `dropped ${reason}`, null, address)) {
      this.#sink({
        time: auditTime(),
        kind: 'refusal',
        token: null,
        address,
        method: '',
        path: '',
        route: null,
        status: 0,
        durationMs: 0,
        detail: { dropped: reason },
      });
    }
  }

  /** Writes the pending summaries now and stops the timer (when the endpoint closes). */
  flush(): void {
    this.#writeSummaries();
  }

  #mayWriteTokenRefusal(): boolean {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.#tokenRefusalSecond) {
      this.#tokenRefusalSecond = second;
      this.#tokenRefusalsWritten = 0;
    }
    return ++this.#tokenRefusalsWritten <= FULL_TOKEN_REFUSALS_PER_SECOND;
  }

  /** Counts one event; true when it is the first of its address's interval, to be written as it is. */
  #count(group: string, key: string, token: string | null, address: string): boolean {
    let entry = this.#entries.get(group);
    if (entry === undefined && this.#entries.size >= this.#maxAddresses) {
      group = '*';
      address = '*';
      entry = this.#entries.get(group);
    }
    if (entry === undefined) {
      this.#entries.set(group, { since: performance.now(), counts: new Map(), token: group === '*' ? null : token, address });
      this.#startTimer();
      return true;
    }
    entry.counts.set(key, (entry.counts.get(key) ?? 0) + 1);
    return false;
  }

  #startTimer(): void {
    if (this.#timer !== null) return;
    this.#timer = setTimeout(
      guarded('writing audit summaries', () => this.#writeSummaries()),
      this.#intervalMs,
    );
    this.#timer.unref();
  }

  #writeSummaries(): void {
    const now = performance.now();
    for (const entry of this.#entries.values()) {
      if (entry.counts.size > 0) {
        const counts = Object.fromEntries(entry.counts);
        const total = [...entry.counts.values()].reduce((a, b) => a + b, 0);
        this.#sink({
          time: auditTime(),
          kind: 'summary',
          token: entry.token,
          address: entry.address,
          method: '',
          path: '',
          route: null,
          status: 0,
          durationMs: Math.round(now - entry.since),
          detail: { more: total, counts },
        });
      }
    }
    this.#entries.clear();
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

function isSummarised(event: AuditEvent): boolean {
  if (event.token !== null) return false;
  if (event.kind === 'refusal') return SUMMARISED_CODES.has(event.code) || TOKEN_REFUSALS.has(event.code);
  // A public route, answered without authentication.
  return event.kind === 'request';
}
