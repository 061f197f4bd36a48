// Token format and hashing, shared by the endpoint (verify) and the CLI (mint).
// A token is `opsctl_` + 40 base62 characters of randomness (238 bits) + a 6-character
// base62 CRC32 of them, like GitHub's tokens: the prefix lets secret scanners spot a
// leaked token, the checksum lets both sides reject a mistyped one without hashing.
import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { TOKEN_PREFIX } from './protocol.js';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY_LENGTH = 40;
const CHECKSUM_LENGTH = 6;
export const TOKEN_LENGTH = TOKEN_PREFIX.length + BODY_LENGTH + CHECKSUM_LENGTH;
const TOKEN_SHAPE = new RegExp(`^${TOKEN_PREFIX}[0-9A-Za-z]{${BODY_LENGTH + CHECKSUM_LENGTH}}$`);
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

/** True when `value` has the token shape and its checksum matches. Cheap: no hashing. */
export function isWellFormedToken(value: string): boolean {
  if (!TOKEN_SHAPE.test(value)) return false;
  const body = value.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + BODY_LENGTH);
  return value.endsWith(checksum(body));
}

/** SHA-256 of the token as 64 lowercase hex characters: what the app's configuration holds. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function isTokenHash(value: string): boolean {
  return HASH_SHAPE.test(value);
}
