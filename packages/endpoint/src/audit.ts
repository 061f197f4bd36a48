// Audit events: who did what, when, with what outcome. Tokens and Authorization
// headers never reach an event; callers are named by their token's name.
import { write, writeSync } from 'node:fs';
import { LineQueue } from './audit-writer.js';
import { guarded, warnOnce } from './guard.js';
import type { ErrorCode } from './protocol/index.js';

export interface AuditEvent {
  /** ISO time the request ended (or the REPL line was evaluated). */
  time: string;
  /**
   * `summary`: the counts of what callers without a token caused at `address`, or of a
   * token's refusals, since the event written in full (audit-summary.ts); `detail.counts`
   * by status and code.
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

/** Who asked, for the audit events written on a request's behalf (REPL lines, errors after an answer, on either thread). */
export interface Caller {
  token: string | null;
  address: string;
  method: string;
  path: string;
  route: string;
}

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

// The default sink's queue to stderr (audit-writer.ts): up to MAX_QUEUED_BYTES wait for a
// full pipe; past that, lines are dropped and counted. Flushed at exit too.
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;
const RETRY_MS = 50;

let pending = '';
let flushesAtExit = false;
const toStderr = new LineQueue({
  write: (chunk, done) => write(2, chunk, 0, chunk.length, null, done),
  maxQueuedBytes: MAX_QUEUED_BYTES,
  droppedNotice,
  onError: (error) => warnOnce('writing audit events to stderr', error),
  retryLater: (drain) => setTimeout(guarded('writing audit events', drain), RETRY_MS).unref(),
});

function flush(): void {
  const lines = pending;
  pending = '';
  toStderr.push(lines);
}

function droppedNotice(lines: number): string {
  return `{"opsctl":"audit","time":"${auditTime()}","kind":"summary","token":null,"address":"","method":"","path":"","route":null,"status":0,"durationMs":0,"detail":{"droppedEvents":${lines},"reason":"stderr took no audit lines while ${MAX_QUEUED_BYTES / 1048576} MiB waited"}}\n`;
}

/** Writes what the default sink holds now, synchronously: at exit, and when the endpoint's thread stops. */
export function flushAuditNow(): void {
  const lines = Buffer.concat([toStderr.takeAll(), Buffer.from(pending)]);
  pending = '';
  try {
    if (lines.length > 0) writeSync(2, lines);
  } catch {
    // The process is ending and stderr is gone, or full.
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
