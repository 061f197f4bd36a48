// The one place that writes response heads and JSON bodies, so every answer carries
// the same headers and every error the same shape.
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ERRORS, INSTANCE_HEADER, type ErrorBody, type ErrorCode } from '../protocol/index.js';
import { instanceHeaderValue } from '../instance.js';

const COMMON_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  [INSTANCE_HEADER]: instanceHeaderValue,
});

export interface ErrorReply {
  message?: string;
  details?: Record<string, unknown>;
  headers?: Record<string, string | number>;
  /** A refusal before authentication: without the instance header, so the caller learns nothing. */
  anonymous?: boolean;
}

const ANONYMOUS_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
});

/** The common headers as `name: value` lines, for responses written on a raw socket. */
export function commonHeaderLines(anonymous = false): string[] {
  return Object.entries(anonymous ? ANONYMOUS_HEADERS : COMMON_HEADERS).map(([name, value]) => `${name}: ${value}`);
}

/** Sets the headers every answer carries; streaming routes call this before writeHead. */
export function setCommonHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(COMMON_HEADERS)) res.setHeader(name, value);
}

/** A JSON answer; `anonymous` (a public route answering a caller without a token) leaves the instance header out. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | number> = {}, anonymous = false): void {
  sendPayload(res, status, JSON.stringify(body), headers, anonymous);
}

/**
 * A JSON answer already serialised (a document the main thread built), or any payload:
 * all headers in one writeHead, cheaper than setHeader per header, which matters on the
 * refusal path.
 */
export function sendPayload(
  res: ServerResponse,
  status: number,
  payload: string | Uint8Array,
  headers: Record<string, string | number> = {},
  anonymous = false,
): void {
  res.writeHead(status, {
    ...(anonymous ? ANONYMOUS_HEADERS : COMMON_HEADERS),
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

// Refusals with the default sentence and no details are most of a flood: serialise each once.
const DEFAULT_ERROR_PAYLOADS = new Map<ErrorCode, string>();

export function errorBody(code: ErrorCode, message?: string, details?: Record<string, unknown>): ErrorBody {
  return { error: { code, message: message ?? ERRORS[code].message, ...(details ? { details } : {}) } };
}

export function sendError(res: ServerResponse, code: ErrorCode, reply: ErrorReply = {}): void {
  let payload: string | undefined;
  if (reply.message === undefined && reply.details === undefined) {
    payload = DEFAULT_ERROR_PAYLOADS.get(code);
    if (payload === undefined) DEFAULT_ERROR_PAYLOADS.set(code, (payload = JSON.stringify(errorBody(code))));
  }
  sendPayload(
    res,
    ERRORS[code].status,
    payload ?? JSON.stringify(errorBody(code, reply.message, reply.details)),
    reply.headers ?? {},
    reply.anonymous === true,
  );
}

/**
 * A complete HTTP/1.1 error response as text, for sockets that never became a request
 * (parse errors, header timeouts, oversized headers) and for refused upgrades: the
 * connection closes after it. Without `body` (the answer to HEAD), the head alone.
 */
export function rawErrorResponse(code: ErrorCode, reply: ErrorReply = {}, { body = true } = {}): string {
  const { status } = ERRORS[code];
  const payload = JSON.stringify(errorBody(code, reply.message, reply.details));
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(payload)}`,
    'connection: close',
    ...commonHeaderLines(reply.anonymous === true),
    ...Object.entries(reply.headers ?? {})
      .filter(([name]) => name !== 'connection')
      .map(([name, value]) => `${name}: ${value}`),
  ];
  return `${head.join('\r\n')}\r\n\r\n${body ? payload : ''}`;
}

/**
 * How long a raw refusal waits for its bytes to leave before the socket is destroyed. The
 * server allows half-open connections (node:http does), so end() alone would keep the
 * socket, and its place under the connection limits, until the client closed its side.
 */
const REFUSAL_LINGER_MS = 1_000;

/**
 * Ends the socket, after `lastBytes` (a raw refusal, a farewell), and frees it: destroyed
 * once the bytes are handed to the kernel, and after REFUSAL_LINGER_MS at the latest,
 * whatever the client does (never reads, never closes). Input still arriving meanwhile
 * is read and dropped, so a client that keeps sending cannot fill the buffers either.
 */
export function closeSocket(socket: Duplex, lastBytes = ''): void {
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.on('error', () => socket.destroy());
  socket.on('data', () => {});
  socket.resume();
  socket.end(lastBytes, () => socket.destroy());
}
