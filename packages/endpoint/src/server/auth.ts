// Bearer-token authentication. Runs before routing, so an anonymous caller learns
// nothing about which paths exist. The token is checked for shape and checksum
// first (cheap), then hashed once and compared timing-safely against every
// configured hash, without stopping at the first match.
//
// A verified credential is then dropped from the request (rawHeaders, headers): a
// long-lived request (a leak stream, a REPL session) would otherwise keep an admin's
// token in every heap snapshot a `heap`-scope holder takes meanwhile. No regular
// expression sees the header either (tokens.ts says why).
import type { IncomingMessage } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ResolvedToken } from '../options.js';
import { isWellFormedToken } from '../tokens.js';

export type AuthResult = { ok: true; token: ResolvedToken } | { ok: false; code: 'AUTH_REQUIRED' | 'AUTH_MALFORMED' | 'AUTH_INVALID' };

/** What a dropped credential reads as in the request's headers. */
const REDACTED_CREDENTIAL = '[verified by opsctl; removed]';

export function authenticate(req: IncomingMessage, tokens: readonly ResolvedToken[]): AuthResult {
  const at = authorizationIndex(req.rawHeaders);
  if (at === undefined) return { ok: false, code: 'AUTH_REQUIRED' };
  if (at === null) return { ok: false, code: 'AUTH_MALFORMED' };
  const presented = bearerToken(req.rawHeaders[at] ?? '');
  if (presented === null) return { ok: false, code: 'AUTH_MALFORMED' };
  if (!isWellFormedToken(presented)) return { ok: false, code: 'AUTH_INVALID' };
  const digest = createHash('sha256').update(presented).digest();
  let found: ResolvedToken | null = null;
  for (const token of tokens) {
    if (timingSafeEqual(digest, token.hash) && found === null) found = token;
  }
  if (found === null) return { ok: false, code: 'AUTH_INVALID' };
  dropCredential(req, at);
  return { ok: true, token: found };
}

/**
 * The index in rawHeaders of the one Authorization header's value; undefined when
 * absent, null when repeated. Scans rawHeaders because `headers` keeps only the first of
 * repeated Authorization headers, and `headersDistinct` would build a map of every
 * header on each request.
 */
function authorizationIndex(rawHeaders: readonly string[]): number | null | undefined {
  let index: number | null | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name !== undefined && name.length === 13 && name.toLowerCase() === 'authorization') {
      if (index !== undefined) return null;
      index = i + 1;
    }
  }
  return index;
}

/** `Bearer <token>` (scheme case-insensitive, spaces around) → the token; null when malformed. */
function bearerToken(value: string): string | null {
  if (value.length < 7 || value.slice(0, 6).toLowerCase() !== 'bearer' || value.charCodeAt(6) !== 32) return null;
  let start = 7;
  while (value.charCodeAt(start) === 32) start++;
  let end = value.length;
  while (end > start && value.charCodeAt(end - 1) === 32) end--;
  if (start === end) return null;
  for (let i = start; i < end; i++) {
    const code = value.charCodeAt(i);
    // Whitespace inside: two words, not a token.
    if (code <= 32 || code === 127) return null;
  }
  return value.slice(start, end);
}

function dropCredential(req: IncomingMessage, at: number): void {
  req.rawHeaders[at] = REDACTED_CREDENTIAL;
  // `headers` is built from rawHeaders on first read; it may have been read already (a
  // framework in front of a mounted endpoint).
  delete req.headers.authorization;
}
