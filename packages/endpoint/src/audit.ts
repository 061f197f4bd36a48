// Audit events: who did what, when, with what outcome. Tokens and Authorization
// headers never reach an event; callers are named by their token's name.
import type { ErrorCode } from './protocol.js';

export interface AuditEvent {
  /** ISO time the request ended (or the REPL line was evaluated). */
  time: string;
  kind: 'request' | 'refusal' | 'throttle' | 'repl' | 'capture';
  /** The token's configured name; null for anonymous or failed authentication. */
  token: string | null;
  address: string;
  method: string;
  /** Request path without the query string, cut to 200 characters. */
  path: string;
  /** The matched route's pattern, when the request reached routing. */
  route: string | null;
  status: number;
  code?: ErrorCode;
  durationMs: number;
  /** Body bytes written, for streamed answers. */
  bytes?: number;
  detail?: Record<string, unknown>;
}

export type AuditSink = (event: AuditEvent) => void;

/** Default sink: one JSON line per event on stderr, tagged so log pipelines can route it. */
export function stderrAuditSink(event: AuditEvent): void {
  process.stderr.write(`${JSON.stringify({ opsctl: 'audit', ...event })}\n`);
}
