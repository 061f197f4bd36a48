import { describe, expect, it } from 'vitest';
import { ERRORS, SCOPES, isScope, scopeAllows } from './index.js';

describe('scopes', () => {
  it('lets read-only tokens read and nothing else', () => {
    expect(scopeAllows(['read'], 'read')).toBe(true);
    for (const scope of ['heap', 'profile', 'actions', 'repl', 'admin'] as const) expect(scopeAllows(['read'], scope)).toBe(false);
  });

  it('ranks heap, profile and actions above read but beside each other', () => {
    expect(scopeAllows(['heap'], 'read')).toBe(true);
    expect(scopeAllows(['heap'], 'profile')).toBe(false);
    expect(scopeAllows(['profile'], 'heap')).toBe(false);
    expect(scopeAllows(['actions'], 'repl')).toBe(false);
  });

  it('lets repl do all but admin-only things, and admin everything', () => {
    expect(scopeAllows(['repl'], 'heap')).toBe(true);
    expect(scopeAllows(['repl'], 'actions')).toBe(true);
    for (const scope of SCOPES) expect(scopeAllows(['admin'], scope)).toBe(true);
  });

  it('combines the scopes a token holds', () => {
    expect(scopeAllows(['heap', 'profile'], 'profile')).toBe(true);
    expect(scopeAllows([], 'read')).toBe(false);
  });

  it('knows only its own scope names', () => {
    expect(isScope('heap')).toBe(true);
    expect(isScope('root')).toBe(false);
    expect(isScope('toString')).toBe(false);
  });
});

describe('error codes', () => {
  it('give every code a 4xx or 5xx status and a sentence', () => {
    for (const [code, { status, message }] of Object.entries(ERRORS)) {
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(message, code).toMatch(/^[A-Z].*\.$/);
    }
  });
});
