import { describe, expect, it } from 'vitest';
import { escapeJsonControls, parseEndpointJson, printable } from './sanitize.js';

describe('printable', () => {
  it('removes whole escape sequences, C1 controls and bidi overrides, and keeps tabs and newlines', () => {
    expect(printable('a\u001b[2Jb\u001b]0;title\u0007c\u001b]52;c;Y2xpcA==\u001b\\d\u009b31me\u202ef\tg\nh\ri')).toBe('abcdef\tg\nhi');
  });

  it('applies to every string of a parsed answer, keys too', () => {
    const parsed = parseEndpointJson<Record<string, unknown>>(JSON.stringify({ ['k\u001b[1m']: ['v\u009b2J', { n: 1, s: 'x\u001b]0;t\u0007' }] }));
    expect(parsed).toEqual({ k: ['v', { n: 1, s: 'x' }] });
  });
});

describe('escapeJsonControls', () => {
  it('escapes what JSON.stringify leaves raw, and stays the same JSON', () => {
    const value = { s: 'a\u009bb\u007fc\u202e' };
    const text = escapeJsonControls(JSON.stringify(value));
    expect(text).not.toMatch(/[\u007f-\u009f\u202e]/);
    expect(JSON.parse(text)).toEqual(value);
  });
});
