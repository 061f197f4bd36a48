// Audit events: who did what, when, with what outcome. Tokens and Authorization
// headers never reach an event; callers are named by their token's name.
import { write, writeSync } from 'node:fs';
import { guarded, warnOnce } from './guard.js';
import type { ErrorCode } from './protocol/index.js';

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

// Lines written within one turn of the event loop go out in one write: under a flood of
// refusals, one system call per turn instead of one per request. Written to file
// descriptor 2 directly rather than through process.stderr: a closed stderr pipe then
// fails this write quietly instead of emitting an 'error' the application never asked
// to handle. A pipe that is full (EAGAIN) or takes part of a write is written again
// later; while it takes nothing, up to MAX_QUEUED_BYTES wait, and past that new lines are
// dropped and counted, and a line saying how many goes out when stderr takes lines again.
// Flushed at exit too.
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;
const RETRY_MS = 50;

let pending = '';
let flushesAtExit = false;
const queue: Buffer[] = [];
let queuedBytes = 0;
let writing = false;
let droppedLines = 0;

function flush(): void {
  const lines = pending;
  pending = '';
  if (lines === '') return;
  const bytes = Buffer.from(lines);
  if (queuedBytes + bytes.length > MAX_QUEUED_BYTES) {
    droppedLines += countLines(bytes);
    return;
  }
  queue.push(bytes);
  queuedBytes += bytes.length;
  drain();
}

function drain(): void {
  if (writing || queue.length === 0) return;
  if (droppedLines > 0) {
    const notice = Buffer.from(droppedNotice(droppedLines));
    droppedLines = 0;
    queue.unshift(notice);
    queuedBytes += notice.length;
  }
  const chunk = queue.length === 1 ? (queue[0] as Buffer) : Buffer.concat(queue);
  queue.length = 0;
  queuedBytes = 0;
  writing = true;
  write(2, chunk, 0, chunk.length, null, (error, written) => {
    writing = false;
    const rest = error ? ((error as NodeJS.ErrnoException).code === 'EAGAIN' ? chunk : null) : chunk.subarray(written);
    if (error && rest === null) warnOnce('writing audit events to stderr', error);
    if (rest !== null && rest.length > 0) {
      queue.unshift(rest);
      queuedBytes += rest.length;
    }
    if (error) setTimeout(guarded('writing audit events', drain), RETRY_MS).unref();
    else drain();
  });
}

function countLines(bytes: Buffer): number {
  let lines = 0;
  for (let at = bytes.indexOf(10); at !== -1; at = bytes.indexOf(10, at + 1)) lines++;
  return lines;
}

function droppedNotice(lines: number): string {
  return `{"opsctl":"audit","time":"${auditTime()}","kind":"summary","token":null,"address":"","method":"","path":"","route":null,"status":0,"durationMs":0,"detail":{"droppedEvents":${lines},"reason":"stderr took no audit lines while ${MAX_QUEUED_BYTES / 1048576} MiB waited"}}\n`;
}

/** Writes what the default sink holds now, synchronously: at exit, and when the endpoint's thread stops. */
export function flushAuditNow(): void {
  const lines = Buffer.concat([...queue, Buffer.from(pending)]);
  pending = '';
  queue.length = 0;
  queuedBytes = 0;
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
