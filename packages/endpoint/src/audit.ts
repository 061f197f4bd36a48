// Audit events: who did what, when, with what outcome. Tokens and Authorization
// headers never reach an event; callers are named by their token's name.
import { write, writeSync } from 'node:fs';
import { guarded, warnOnce } from './guard.js';
import type { ErrorCode } from './protocol.js';

export interface AuditEvent {
  /** ISO time the request ended (or the REPL line was evaluated). */
  time: string;
  /**
   * `summary`: the counts of what callers without a token caused at `address` since the
   * event of theirs written in full (audit-summary.ts); `detail.counts` by status and code.
   */
  /** `block`: the main thread's event loop was blocked past the watchdog's threshold (detail: cause, top frames). */
  kind: 'request' | 'refusal' | 'throttle' | 'repl' | 'capture' | 'summary' | 'block';
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

let clockMs = 0;
let clockIso = '';

/** The ISO time now, formatted once per millisecond: a flood of refusals shares it. */
export function auditTime(): string {
  const now = Date.now();
  if (now !== clockMs) {
    clockMs = now;
    clockIso = new Date(now).toISOString();
  }
  return clockIso;
}

// Lines written within one turn of the event loop go out in one write: under a flood of
// refusals, one system call per turn instead of one per request. Written to file
// descriptor 2 directly rather than through process.stderr: a closed stderr pipe then
// fails this write quietly instead of emitting an 'error' the application never asked
// to handle. Flushed at exit too.
let pending = '';
let flushesAtExit = false;

function flush(): void {
  const lines = pending;
  pending = '';
  if (lines !== '') write(2, lines, (error) => error && warnOnce('writing audit events to stderr', error));
}

/** Writes what the default sink holds now, synchronously: at exit, and when the endpoint's thread stops. */
export function flushAuditNow(): void {
  const lines = pending;
  pending = '';
  try {
    if (lines !== '') writeSync(2, lines);
  } catch {
    // The process is ending and stderr is gone.
  }
}

/** Default sink: one JSON line per event on stderr, tagged so log pipelines can route it. */
export function stderrAuditSink(event: AuditEvent): void {
  if (pending === '') setImmediate(guarded('flushing audit events', flush)).unref();
  if (!flushesAtExit) {
    process.on('exit', flushAuditNow);
    flushesAtExit = true;
  }
  pending += auditLine(event);
}

const json = JSON.stringify;

/**
 * The event as one JSON line tagged `"opsctl":"audit"`, fields in a fixed order. Built by
 * hand rather than JSON.stringify of a spread object: with auditTime() that took ~13% off
 * the CPU of an audited refusal under a flood. Strings a caller chooses still go through
 * JSON.stringify, so they are escaped.
 */
export function auditLine(event: AuditEvent): string {
  let line = `{"opsctl":"audit","time":"${event.time}","kind":"${event.kind}","token":${event.token === null ? 'null' : json(event.token)}`;
  line += `,"address":${json(event.address)},"method":${json(event.method)},"path":${json(event.path)}`;
  line += `,"route":${event.route === null ? 'null' : json(event.route)},"status":${event.status}`;
  if (event.code !== undefined) line += `,"code":"${event.code}"`;
  line += `,"durationMs":${event.durationMs}`;
  if (event.bytes !== undefined) line += `,"bytes":${event.bytes}`;
  if (event.detail !== undefined) line += `,"detail":${json(event.detail)}`;
  return `${line}}\n`;
}

/**
 * The sink as the endpoint calls it: an exception thrown by an application's sink is
 * reported once as a process warning and otherwise ignored. Failing open is deliberate:
 * a broken log pipeline must not take the application down, nor lock operators out of
 * the endpoint they would use to look at it.
 */
export function guardedSink(sink: AuditSink): AuditSink {
  let warned = false;
  return (event) => {
    try {
      sink(event);
    } catch (error) {
      if (!warned) process.emitWarning(`opsctl: the audit sink threw; audit events are being lost: ${String(error)}`);
      warned = true;
    }
  };
}
