// What a route is and what its handler receives. Handlers never check tokens, scopes
// or concurrency: the pipeline (server/pipeline.ts) has done that before they run.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ResolvedOptions, ResolvedToken } from '../options.js';
import type { Scope } from '../protocol.js';
import type { AuditEvent } from '../audit.js';
import type { ActionRunner } from '../actions/runner.js';
import type { Capture } from '../diagnostics/capture.js';
import type { LeakMonitor } from '../diagnostics/leak-monitor.js';
import type { WorkerRegistry } from '../diagnostics/workers.js';
import type { Gate } from './gate.js';

export interface RouteContext {
  options: ResolvedOptions;
  /** The authenticated caller; null on a route the application made public. */
  token: ResolvedToken | null;
  query: URLSearchParams;
  /** The path's `:name` segment, for routes that have one (`/snapshots/:id` → { id }). */
  params: Readonly<Record<string, string>>;
  /** Aborted when the client goes away or the endpoint closes: stop work, free resources. */
  signal: AbortSignal;
  /** Facts the route adds to its audit event (bytes, durations, parameters). */
  auditDetail: Record<string, unknown>;
  /** Names of the features this endpoint has enabled, for `info`. */
  capabilities: readonly string[];
  /** The always-on leak monitor; null when the application turned leak detection off. */
  leakMonitor: LeakMonitor | null;
  /** The application's actions; null when it registered none. */
  actions: ActionRunner | null;
  /** Automatic heap snapshots; null when the application did not configure them. */
  capture: Capture | null;
  /** The worker threads the application registered. */
  workers: WorkerRegistry;
  /** The concurrency gate that admitted this request, if the route has one. */
  gate: Gate | null;
  /** For an upgrade, the status the route answered with: 101, unless it refused on the socket. */
  upgradeStatus: number;
  /** Emits an extra audit event for this caller and route (e.g. one per REPL line). */
  audit(event: { kind: AuditEvent['kind']; status: number; durationMs: number; detail: Record<string, unknown> }): void;
}

export interface Route {
  /** Stable name: used in `public`, in capabilities and in audit events. */
  name: string;
  method: 'GET' | 'POST' | 'DELETE';
  /** A fixed path, or one ending in a `:name` segment (see router.ts). */
  path: string;
  scope: Scope;
  /** Name of the concurrency gate that admits this route's work, if it is heavy. */
  gate?: string;
  /** False when the application has not enabled the feature: the route answers 404 FEATURE_DISABLED. */
  enabled?(options: ResolvedOptions): boolean;
  /** The feature's name in that refusal, e.g. "the REPL". */
  feature?: string;
  handle(req: IncomingMessage, res: ServerResponse, ctx: RouteContext): void | Promise<void>;
  /**
   * For routes that accept an HTTP Upgrade (the REPL): takes over the socket once every
   * check has passed. The route writes the 101 response itself. The socket's close ends it.
   */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer, ctx: RouteContext): void;
}
