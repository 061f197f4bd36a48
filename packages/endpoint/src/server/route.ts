// What a route is and what its handler receives. Handlers never check tokens, scopes
// or concurrency: the pipeline (server/pipeline.ts) has done that before they run.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResolvedOptions, ResolvedToken } from '../options.js';
import type { Scope } from '../protocol.js';

export interface RouteContext {
  options: ResolvedOptions;
  /** The authenticated caller; null on a route the application made public. */
  token: ResolvedToken | null;
  query: URLSearchParams;
  /** Aborted when the client goes away or the endpoint closes: stop work, free resources. */
  signal: AbortSignal;
  /** Facts the route adds to its audit event (bytes, durations, parameters). */
  auditDetail: Record<string, unknown>;
  /** Names of the features this endpoint has enabled, for `info`. */
  capabilities: readonly string[];
}

export interface Route {
  /** Stable name: used in `public`, in capabilities and in audit events. */
  name: string;
  method: 'GET' | 'POST';
  path: string;
  scope: Scope;
  /** Name of the concurrency gate that admits this route's work, if it is heavy. */
  gate?: string;
  handle(req: IncomingMessage, res: ServerResponse, ctx: RouteContext): void | Promise<void>;
}
