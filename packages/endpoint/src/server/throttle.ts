// Failed-authentication throttling per client address. After `allowed` failures in a
// window the address is refused for `blockMs`, doubling on each repeat block up to
// AUTH_BLOCK_MAX_MS. The table is bounded (least recently seen address goes first), so a
// flood from many addresses costs memory in proportion to the bound, not the flood.
import { AUTH_BLOCK_MAX_MS, THROTTLE_TRACKED_ADDRESSES } from '../options.js';

interface Entry {
  failures: number;
  windowStart: number;
  blockedUntil: number;
  blocks: number;
  /** Requests refused during the current block. */
  refused: number;
}

export interface ThrottleSettings {
  allowed: number;
  windowMs: number;
  blockMs: number;
  maxTracked?: number;
}

export class AuthThrottle {
  readonly #entries = new Map<string, Entry>();
  readonly #settings: Required<ThrottleSettings>;

  constructor(settings: ThrottleSettings) {
    this.#settings = { maxTracked: THROTTLE_TRACKED_ADDRESSES, ...settings };
  }

  /**
   * Whether the address is blocked now: the milliseconds it must still wait (0 when it
   * may try) and how many requests this block has refused so far, this one included.
   */
  check(address: string, now: number): { retryAfterMs: number; refusedInBlock: number } {
    const entry = this.#entries.get(address);
    if (entry === undefined || entry.blockedUntil <= now) return { retryAfterMs: 0, refusedInBlock: 0 };
    entry.refused++;
    return { retryAfterMs: entry.blockedUntil - now, refusedInBlock: entry.refused };
  }

  /** Records a failure; returns the block length in ms when this failure starts a block, else 0. */
  fail(address: string, now: number): number {
    let entry = this.#entries.get(address);
    if (entry === undefined) {
      entry = { failures: 0, windowStart: now, blockedUntil: 0, blocks: 0, refused: 0 };
    } else {
      this.#entries.delete(address); // re-insert below: Map order is recency order
      // A long quiet spell forgives earlier blocks.
      if (now - Math.max(entry.windowStart, entry.blockedUntil) > AUTH_BLOCK_MAX_MS) entry.blocks = 0;
      if (now - entry.windowStart > this.#settings.windowMs) {
        entry.failures = 0;
        entry.windowStart = now;
      }
    }
    this.#entries.set(address, entry);
    this.#evictOverflow();
    entry.failures++;
    if (entry.failures < this.#settings.allowed) return 0;
    const blockMs = Math.min(this.#settings.blockMs * 2 ** entry.blocks, AUTH_BLOCK_MAX_MS);
    entry.blocks++;
    entry.failures = 0;
    entry.refused = 0;
    entry.windowStart = now + blockMs;
    entry.blockedUntil = now + blockMs;
    return blockMs;
  }

  /**
   * A caller that authenticates has its address's failures forgiven, unless the address
   * is blocked: a valid token shared with an attacker behind one proxy lifts nothing.
   */
  succeed(address: string, now: number): void {
    const entry = this.#entries.get(address);
    if (entry !== undefined && entry.blockedUntil <= now) this.#entries.delete(address);
  }

  get trackedAddresses(): number {
    return this.#entries.size;
  }

  #evictOverflow(): void {
    while (this.#entries.size > this.#settings.maxTracked) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) return;
      this.#entries.delete(oldest);
    }
  }
}
