// The one place that writes response heads and JSON bodies, so every answer carries
// the same headers and every error the same shape.
import { STATUS_CODES, type ServerResponse } from 'node:http';
import { ERRORS, INSTANCE_HEADER, type ErrorBody, type ErrorCode } from '../protocol.js';
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
}

/** The common headers as `name: value` lines, for responses written on a raw socket. */
export function commonHeaderLines(): string[] {
  return Object.entries(COMMON_HEADERS).map(([name, value]) => `${name}: ${value}`);
}

/** Sets the headers every answer carries; streaming routes call this before writeHead. */
export function setCommonHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(COMMON_HEADERS)) res.setHeader(name, value);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | number> = {}): void {
  const payload = JSON.stringify(body);
  setCommonHeaders(res);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

export function errorBody(code: ErrorCode, message?: string, details?: Record<string, unknown>): ErrorBody {
  return { error: { code, message: message ?? ERRORS[code].message, ...(details ? { details } : {}) } };
}

export function sendError(res: ServerResponse, code: ErrorCode, reply: ErrorReply = {}): void {
  sendJson(res, ERRORS[code].status, errorBody(code, reply.message, reply.details), reply.headers);
}

/**
 * A complete HTTP/1.1 error response as text, for sockets that never became a request
 * (parse errors, header timeouts, oversized headers) and for refused upgrades: the
 * connection closes after it.
 */
export function rawErrorResponse(code: ErrorCode, reply: ErrorReply = {}): string {
  const { status } = ERRORS[code];
  const payload = JSON.stringify(errorBody(code, reply.message, reply.details));
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(payload)}`,
    'connection: close',
    ...commonHeaderLines(),
    ...Object.entries(reply.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${head.join('\r\n')}\r\n\r\n${payload}`;
}
