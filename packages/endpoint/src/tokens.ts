// Token format and hashing, shared by the endpoint (verify) and the CLI (mint).
// A token is `opsctl_` + 40 base62 characters of randomness (238 bits) + a 6-character
// base62 CRC32 of them, like GitHub's tokens: the prefix lets secret scanners spot a
// leaked token, the checksum lets both sides reject a mistyped one without hashing.
import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { TOKEN_PREFIX } from './protocol/index.js';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY_LENGTH = 40;
const CHECKSUM_LENGTH = 6;
export const TOKEN_LENGTH = TOKEN_PREFIX.length + BODY_LENGTH + CHECKSUM_LENGTH;
const HASH_SHAPE = /^[0-9a-f]{64}$/;

function base62(value: number, width: number): string {
  let out = '';
  for (let i = 0; i < width; i++) {
    out = ALPHABET[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    // Rejection sampling keeps every character uniform: 248 = 4 * 62.
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHABET[byte % 62];
    }
  }
  return out;
}

function checksum(body: string): string {
  return base62(crc32(body), CHECKSUM_LENGTH);
}

/** A new random token. Shown once; only its hash is ever stored by the app. */
export function generateToken(): string {
  const body = randomBase62(BODY_LENGTH);
  return TOKEN_PREFIX + body + checksum(body);
}

/**
 * True when `value` has the token shape and its checksum matches. Cheap: no hashing.
 * No regular expression sees the value: V8 keeps the last string a RegExp matched
 * (RegExp.input) alive, and so in every heap snapshot taken until the next match.
 */
export function isWellFormedToken(value: string): boolean {
  if (value.length !== TOKEN_LENGTH || !value.startsWith(TOKEN_PREFIX)) return false;
  for (let i = TOKEN_PREFIX.length; i < value.length; i++) if (!isBase62(value.charCodeAt(i))) return false;
  const body = value.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + BODY_LENGTH);
  return value.endsWith(checksum(body));
}

function isBase62(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

const TOKEN_LIKE = new RegExp(`${TOKEN_PREFIX}[0-9A-Za-z]{8,}`, 'g');

/**
 * `text` with anything token-shaped masked (`opsctl_…`), for messages that echo what a
 * user gave: a token pasted in the wrong place must not end up in a log as well.
 */
export function maskTokens(text: string): string {
  return text.replace(TOKEN_LIKE, `${TOKEN_PREFIX}…`);
}

/** True when `text` holds something token-shaped. */
export function containsToken(text: string): boolean {
  TOKEN_LIKE.lastIndex = 0;
  return TOKEN_LIKE.test(text);
}

/** SHA-256 of the token as 64 lowercase hex characters: what the app's configuration holds. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function isTokenHash(value: string): boolean {
  return HASH_SHAPE.test(value);
}
