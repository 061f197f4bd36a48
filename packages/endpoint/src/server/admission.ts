// Which connections the endpoint's own server keeps, in the spirit of sshd's MaxStartups:
// connections that have not authenticated yet can never starve those that have.
//
//   authenticated     a request on it carried a valid token; at most `maxAuthenticated`,
//                     and `maxAuthenticatedPerToken` of one token: a leaked token or a
//                     client in a loop cannot take every slot from the other operators.
//                     Never dropped to make room for anything.
//   unauthenticated   everything else; at most `maxUnauthenticated` in all and
//                     `maxUnauthenticatedPerAddress` from one address (an IPv6 address's
//                     /64: address-group.ts). A newcomer over a
//                     bound drops the oldest unauthenticated connection (of its address,
//                     or of all) instead of being refused: an operator's fresh connection
//                     always gets its turn, and a flood only churns its own connections.
//                     Behind `kubectl port-forward` every client is 127.0.0.1; the
//                     per-address bound then equals one pool, and the rule still holds.
//
// A connection accepted in this turn of the event loop has not had its request read yet
// (its bytes are read in the next turn), so it is not dropped until two turns have
// passed: otherwise a burst accepted in one turn could drop an operator's connection
// before it could say who it is. When every candidate is that young, the newcomer is
// refused instead.
import type { Socket } from 'node:net';
import { guarded } from '../guard.js';
import { addressGroup } from './address-group.js';

export interface AdmissionLimits {
  maxAuthenticated: number;
  maxAuthenticatedPerToken: number;
  maxUnauthenticated: number;
  maxUnauthenticatedPerAddress: number;
}

interface Tracked {
  socket: Socket;
  address: string;
  /** The turn of the event loop it was accepted in. */
  turn: number;
  /** The token it authenticated with; null while unauthenticated. */
  token: string | null;
}

/** Why a connection was let go: counted with the anonymous refusals in the audit. */
export type DropReason = 'unauthenticated-limit' | 'address-limit';

export class ConnectionAdmission {
  readonly #limits: AdmissionLimits;
  readonly #onDrop: (address: string, reason: DropReason) => void;
  readonly #bySocket = new WeakMap<Socket, Tracked>();
  /** Unauthenticated connections, oldest first (a Set keeps insertion order). */
  readonly #unauthenticated = new Set<Tracked>();
  readonly #unauthenticatedByAddress = new Map<string, Set<Tracked>>();
  #authenticated = 0;
  readonly #authenticatedByToken = new Map<string, number>();
  #turn = 0;
  /** The turn the newest connection was accepted in. */
  #newestTurn = 0;
  #counting = false;

  constructor(limits: AdmissionLimits, onDrop: (address: string, reason: DropReason) => void) {
    this.#limits = limits;
    this.#onDrop = onDrop;
  }

  get authenticated(): number {
    return this.#authenticated;
  }

  get unauthenticated(): number {
    return this.#unauthenticated.size;
  }

  /** For the server's 'connection' event: keeps the socket, dropping an older one if a bound is reached, or refuses it. */
  admit(socket: Socket): void {
    const address = addressGroup(socket.remoteAddress ?? 'unknown');
    const tracked: Tracked = { socket, address, turn: this.#turn, token: null };
    const sameAddress = this.#unauthenticatedByAddress.get(address);
    if (sameAddress !== undefined && sameAddress.size >= this.#limits.maxUnauthenticatedPerAddress && !this.#dropOldest(sameAddress, 'address-limit')) {
      return this.#refuse(socket, address, 'address-limit');
    }
    if (this.#unauthenticated.size >= this.#limits.maxUnauthenticated && !this.#dropOldest(this.#unauthenticated, 'unauthenticated-limit')) {
      return this.#refuse(socket, address, 'unauthenticated-limit');
    }
    this.#bySocket.set(socket, tracked);
    this.#addUnauthenticated(tracked);
    socket.once('close', () => this.#forget(tracked));
    this.#newestTurn = this.#turn;
    this.#countTurns();
  }

  /**
   * Marks the connection of a request whose token (named `token`) was valid. Refused when
   * a limit of authenticated connections is reached: the caller answers 503 and closes it.
   * A connection stays with the token it first authenticated with. Sockets this
   * admission never saw (a mounted handler's) are always admitted.
   */
  authenticate(socket: Socket, token: string): 'admitted' | 'connection-limit' | 'token-limit' {
    const tracked = this.#bySocket.get(socket) ?? this.#bySocket.get((socket as Socket & { _parent?: Socket })._parent as Socket);
    if (tracked === undefined || tracked.token !== null) return 'admitted';
    const ofToken = this.#authenticatedByToken.get(token) ?? 0;
    if (ofToken >= this.#limits.maxAuthenticatedPerToken) return 'token-limit';
    if (this.#authenticated >= this.#limits.maxAuthenticated) return 'connection-limit';
    this.#removeUnauthenticated(tracked);
    tracked.token = token;
    this.#authenticated++;
    this.#authenticatedByToken.set(token, ofToken + 1);
    return 'admitted';
  }

  /** Drops the oldest connection of `pool` that has had its turn; false when all are too young. */
  #dropOldest(pool: Set<Tracked>, reason: DropReason): boolean {
    for (const tracked of pool) {
      if (this.#turn - tracked.turn < 2) return false; // oldest first: the rest are younger still
      this.#forget(tracked);
      tracked.socket.destroy();
      this.#onDrop(tracked.address, reason);
      return true;
    }
    return false;
  }

  #refuse(socket: Socket, address: string, reason: DropReason): void {
    socket.destroy();
    this.#onDrop(address, reason);
  }

  #addUnauthenticated(tracked: Tracked): void {
    this.#unauthenticated.add(tracked);
    let sameAddress = this.#unauthenticatedByAddress.get(tracked.address);
    if (sameAddress === undefined) this.#unauthenticatedByAddress.set(tracked.address, (sameAddress = new Set()));
    sameAddress.add(tracked);
  }

  #removeUnauthenticated(tracked: Tracked): void {
    this.#unauthenticated.delete(tracked);
    const sameAddress = this.#unauthenticatedByAddress.get(tracked.address);
    sameAddress?.delete(tracked);
    if (sameAddress?.size === 0) this.#unauthenticatedByAddress.delete(tracked.address);
  }

  #forget(tracked: Tracked): void {
    if (!this.#bySocket.has(tracked.socket)) return;
    this.#bySocket.delete(tracked.socket);
    if (tracked.token === null) return this.#removeUnauthenticated(tracked);
    this.#authenticated--;
    const ofToken = (this.#authenticatedByToken.get(tracked.token) ?? 1) - 1;
    if (ofToken === 0) this.#authenticatedByToken.delete(tracked.token);
    else this.#authenticatedByToken.set(tracked.token, ofToken);
  }

  /** Counts turns of the event loop while any unauthenticated connection is young; idle otherwise. */
  #countTurns(): void {
    if (this.#counting) return;
    this.#counting = true;
    const tick = guarded('counting turns for connection admission', () => {
      this.#turn++;
      if (this.#turn - this.#newestTurn < 2) setImmediate(tick).unref();
      else this.#counting = false;
    });
    setImmediate(tick).unref();
  }
}
