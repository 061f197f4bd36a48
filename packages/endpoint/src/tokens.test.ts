import { describe, expect, it } from 'vitest';
import { TOKEN_PREFIX } from './protocol/index.js';
import { TOKEN_LENGTH, generateToken, hashToken, isTokenHash, isWellFormedToken } from './tokens.js';

describe('tokens', () => {
  it('generates prefixed tokens of fixed length that pass their own checksum', () => {
    const token = generateToken();
    expect(token.startsWith(TOKEN_PREFIX)).toBe(true);
    expect(token).toHaveLength(TOKEN_LENGTH);
    expect(isWellFormedToken(token)).toBe(true);
  });

  it('never repeats a token', () => {
    const seen = new Set(Array.from({ length: 1000 }, generateToken));
    expect(seen.size).toBe(1000);
  });

  it('rejects a token with one character changed, by checksum, without hashing', () => {
    const token = generateToken();
    const i = TOKEN_PREFIX.length + 5;
    const typo = token.slice(0, i) + (token[i] === 'a' ? 'b' : 'a') + token.slice(i + 1);
    expect(isWellFormedToken(typo)).toBe(false);
  });

  it('rejects other shapes: wrong prefix, wrong length, foreign characters', () => {
    const token = generateToken();
    expect(isWellFormedToken(token.replace(TOKEN_PREFIX, 'ghp_'))).toBe(false);
    expect(isWellFormedToken(token.slice(0, -1))).toBe(false);
    expect(isWellFormedToken(`${token}x`)).toBe(false);
    expect(isWellFormedToken(`${token.slice(0, -2)}-_`)).toBe(false);
    expect(isWellFormedToken('')).toBe(false);
  });

  it('hashes to 64 lowercase hex characters, the form configuration holds', () => {
    const hash = hashToken(generateToken());
    expect(isTokenHash(hash)).toBe(true);
    expect(isTokenHash(hash.toUpperCase())).toBe(false);
  });
});
