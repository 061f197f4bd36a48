import { describe, expect, it } from 'vitest';
import type { Route } from './route.js';
import { Router } from './router.js';

const route = (method: Route['method'], path: string, name = path.slice(1)): Route => ({ name, method, path, scope: 'read', handle() {} });

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

describe('Router with a :name segment', () => {
  const router = new Router([route('GET', '/snapshots', 'list'), route('GET', '/snapshots/:id', 'get'), route('DELETE', '/snapshots/:id', 'delete')]);

  it('matches one safe segment and hands it over as a parameter', () => {
    expect(router.match('GET', '/snapshots/20260101T000000Z-heap-above-abc123')).toMatchObject({
      kind: 'found',
      route: { name: 'get' },
      params: { id: '20260101T000000Z-heap-above-abc123' },
    });
    expect(router.match('DELETE', '/snapshots/a.b_c-d')).toMatchObject({ kind: 'found', route: { name: 'delete' }, params: { id: 'a.b_c-d' } });
    expect(router.match('GET', '/snapshots')).toMatchObject({ kind: 'found', route: { name: 'list' }, params: {} });
  });

  it('answers a wrong method on a parameter route with the allowed methods', () => {
    expect(router.match('POST', '/snapshots/x')).toEqual({ kind: 'method-not-allowed', allow: 'GET, DELETE' });
  });

  it('refuses empty, dotted, encoded, nested and oversized segments', () => {
    for (const path of [
      '/snapshots/',
      '/snapshots/..',
      '/snapshots/.',
      '/snapshots/a%2Fb',
      '/snapshots/a/b',
      `/snapshots/${'x'.repeat(129)}`,
      '/snapshotsx/a',
    ]) {
      expect(router.match('GET', path).kind, path).toBe('not-found');
    }
  });

  it('refuses two names for the parameter of one prefix', () => {
    expect(() => new Router([route('GET', '/a/:id'), route('DELETE', '/a/:name')])).toThrow(/both :id and :name/);
  });
});
