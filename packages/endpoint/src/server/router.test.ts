import { describe, expect, it } from 'vitest';
import type { Route } from './route.js';
import { Router } from './router.js';

const route = (method: 'GET' | 'POST', path: string, name = path.slice(1)): Route => ({ name, method, path, scope: 'read', handle() {} });

describe('Router', () => {
  const router = new Router([route('GET', '/info'), route('GET', '/eval', 'eval-get'), route('POST', '/eval')]);

  it('finds a route by exact path and method', () => {
    expect(router.match('GET', '/info')).toMatchObject({ kind: 'found', route: { path: '/info' } });
    expect(router.match('POST', '/eval')).toMatchObject({ kind: 'found', route: { method: 'POST' } });
  });

  it('answers a known path with a wrong method with the allowed methods', () => {
    expect(router.match('DELETE', '/eval')).toEqual({ kind: 'method-not-allowed', allow: 'GET, POST' });
  });

  it('does not match prefixes, suffixes or case variants', () => {
    for (const path of ['/info/', '/inf', '/INFO', '/info/x', '']) expect(router.match('GET', path).kind).toBe('not-found');
  });

  it('refuses two routes with the same method and path', () => {
    expect(() => new Router([route('GET', '/a'), route('GET', '/a')])).toThrow(/duplicate/);
  });
});
