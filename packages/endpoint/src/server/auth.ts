// Bearer-token authentication. Runs before routing, so an anonymous caller learns
// nothing about which paths exist. The token is checked for shape and checksum
// first (cheap), then hashed once and compared timing-safely against every
// configured hash, without stopping at the first match.
import type { IncomingMessage } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ResolvedToken } from '../options.js';
import { isWellFormedToken } from '../tokens.js';

export type AuthResult =
  | { ok: true; token: ResolvedToken }
  | { ok: false; code: 'AUTH_REQUIRED' | 'AUTH_MALFORMED' | 'AUTH_INVALID' };

const BEARER = /^Bearer +([^\s]+) *$/i;

export function authenticate(req: IncomingMessage, tokens: readonly ResolvedToken[]): AuthResult {
  const value = singleAuthorization(req.rawHeaders);
  if (value === undefined) return { ok: false, code: 'AUTH_REQUIRED' };
  if (value === null) return { ok: false, code: 'AUTH_MALFORMED' };
  const match = BEARER.exec(value);
  if (match === null) return { ok: false, code: 'AUTH_MALFORMED' };
  const presented = match[1] ?? '';
  if (!isWellFormedToken(presented)) return { ok: false, code: 'AUTH_INVALID' };
  const digest = createHash('sha256').update(presented).digest();
  let found: ResolvedToken | null = null;
  for (const token of tokens) {
    if (timingSafeEqual(digest, token.hash) && found === null) found = token;
  }
  return found === null ? { ok: false, code: 'AUTH_INVALID' } : { ok: true, token: found };
}

/**
 * The one Authorization header's value; undefined when absent, null when repeated.
 * Scans rawHeaders because `headers` keeps only the first of repeated Authorization
 * headers, and `headersDistinct` would build a map of every header on each request.
 */
function singleAuthorization(rawHeaders: readonly string[]): string | null | undefined {
  let value: string | null | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name !== undefined && name.length === 13 && name.toLowerCase() === 'authorization') {
      if (value !== undefined) return null;
      value = rawHeaders[i + 1] ?? '';
    }
  }
  return value;
}
