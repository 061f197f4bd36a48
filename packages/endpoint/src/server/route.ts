// What a route is and what its handler receives. Handlers never check tokens, scopes
// or concurrency: the pipeline (server/pipeline.ts) has done that before they run. What
// a route needs of the application's process it asks its Host (host/host.ts), given to
// the function that builds it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AuditEvent, Caller } from '../audit.js';
import type { ResolvedToken } from '../options.js';
import type { Scope } from '../protocol/index.js';
import type { ServerConfig } from './config.js';
import type { Gate } from '../gate.js';

export interface RouteContext {
  config: ServerConfig;
  /** The authenticated caller; null on a route the application made public. */
  token: ResolvedToken | null;
  query: URLSearchParams;
  /** The path's `:name` segment, for routes that have one (`/snapshots/:id` → { id }). */
  params: Readonly<Record<string, string>>;
  /** Aborted when the client goes away or the endpoint closes: stop work, free resources. */
  signal: AbortSignal;
  /** Facts the route adds to its audit event (bytes, durations, parameters). */
  auditDetail: Record<string, unknown>;
  /** Who is asking, for events the main thread writes on this request's behalf. */
  caller: Caller;
  /** For an upgrade, the status the route answered with: 101, unless it refused on the socket. */
  upgradeStatus: number;
  /** Emits an extra audit event for this caller and route. */
  audit(event: { kind: AuditEvent['kind']; status: number; durationMs: number; detail: Record<string, unknown> }): void;
  /**
   * Lets the route's gate go before the handler has ended and its answer closed, once the
   * heavy part is over (a heap snapshot written, its download going on); a no-op without
   * a gate or the second time.
   */
  releaseGate(): void;
}

export interface Route {
  /** Stable name: used in `public`, in capabilities and in audit events. */
  name: string;
  method: 'GET' | 'POST' | 'DELETE';
  /** A fixed path, or one ending in a `:name` segment (see router.ts). */
  path: string;
  scope: Scope;
  /** The concurrency gate that admits this route's work, if it is heavy; held until the handler has settled and its answer closed, or the handler lets it go (releaseGate). */
  gate?: Gate;
  /** Set when the route is off here: it answers 404 FEATURE_DISABLED with this sentence, and what would turn it on. */
  disabled?: Unavailable;
  handle(req: IncomingMessage, res: ServerResponse, ctx: RouteContext): void | Promise<void>;
  /**
   * For routes that accept an HTTP Upgrade (the REPL): takes over the socket once every
   * check has passed. The route writes the 101 response itself. Its promise settles when
   * it is done with the socket.
   */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer, ctx: RouteContext): Promise<void>;
}

/** Why a route is off, and what turns it on (a step for whoever runs the application). */
export interface Unavailable {
  message: string;
  fix: string;
}

/** The usual reason: an option the application did not set. `feature` reads "the REPL", "leak detection"… */
export function notEnabled(feature: string): Unavailable {
  return { message: `The application has not enabled ${feature} in its endpoint options.`, fix: `enable ${feature} in the application's endpoint options` };
}

/** The route that answers 404 FEATURE_DISABLED, in place of one that is off here. */
export function disabledRoute(route: Omit<Route, 'handle' | 'upgrade' | 'gate' | 'disabled'>, why: Unavailable): Route {
  return { ...route, disabled: why, handle: () => {} };
}
