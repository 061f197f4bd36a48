// What a route is and what its handler receives. Handlers never check tokens, scopes
// or concurrency: the pipeline (server/pipeline.ts) has done that before they run. What
// a route needs of the application's process it asks its Host (host/host.ts), given to
// the function that builds it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AuditEvent } from '../audit.js';
import type { Caller } from '../host/host.js';
import type { ResolvedToken } from '../options.js';
import type { Scope } from '../protocol.js';
import type { ServerConfig } from './config.js';
import type { Gate } from './gate.js';

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
}

export interface Route {
  /** Stable name: used in `public`, in capabilities and in audit events. */
  name: string;
  method: 'GET' | 'POST' | 'DELETE';
  /** A fixed path, or one ending in a `:name` segment (see router.ts). */
  path: string;
  scope: Scope;
  /** The concurrency gate that admits this route's work, if it is heavy; held until the handler has settled. */
  gate?: Gate;
  /** Set when the application has not enabled the feature (e.g. "the REPL"): the route answers 404 FEATURE_DISABLED. */
  disabled?: string;
  handle(req: IncomingMessage, res: ServerResponse, ctx: RouteContext): void | Promise<void>;
  /**
   * For routes that accept an HTTP Upgrade (the REPL): takes over the socket once every
   * check has passed. The route writes the 101 response itself. Its promise settles when
   * it is done with the socket.
   */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer, ctx: RouteContext): Promise<void>;
}

/** The route that answers 404 FEATURE_DISABLED, in place of one the application did not enable. */
export function disabledRoute(route: Omit<Route, 'handle' | 'upgrade' | 'gate' | 'disabled'>, feature: string): Route {
  return { ...route, disabled: feature, handle: () => {} };
}
