// Tokens, the scopes they carry, and the hosts a token may reach over plain http.
import { isIP } from 'node:net';

export const SCOPES = ['metrics', 'read', 'heap', 'profile', 'actions', 'repl', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * What each scope grants: metrics < read < heap / profile / actions < repl; admin is
 * everything. `metrics` is for a scraper: numbers only (GET /metrics), nothing else.
 */
export const SCOPE_GRANTS: Readonly<Record<Scope, readonly Scope[]>> = {
  metrics: ['metrics'],
  read: ['read', 'metrics'],
  heap: ['heap', 'read', 'metrics'],
  profile: ['profile', 'read', 'metrics'],
  actions: ['actions', 'read', 'metrics'],
  repl: ['repl', 'heap', 'profile', 'actions', 'read', 'metrics'],
  admin: SCOPES,
};

/** The scopes as a sentence lists them: "metrics, read, heap, profile, actions, repl, admin". */
export const SCOPE_LIST = SCOPES.join(', ');

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** True when a token holding `held` may use a route that requires `required`. */
export function scopeAllows(held: readonly Scope[], required: Scope): boolean {
  return held.some((scope) => SCOPE_GRANTS[scope].includes(required));
}

export const TOKEN_PREFIX = 'opsctl_';

/**
 * Loopback hosts: localhost, 127.0.0.0/8, ::1 (bracketed or not). The only hosts a
 * token may reach over plain http, on either side, unless explicitly allowed.
 */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare.toLowerCase().startsWith('::ffff:127.');
  return false;
}
