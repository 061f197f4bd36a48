// Codes are permanent and clients match them: each one is documented for client authors
// in docs/http-api.md, with its status, its cause and its fix.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS, isErrorCode } from './protocol/index.js';

const page = readFileSync(new URL('../../../docs/http-api.md', import.meta.url), 'utf8');
/** Rows of the error table: | `CODE` | status | cause | fix |. */
const rows = [...page.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \| (.*?) \| (.*?) \|$/gm)].map(([, code, status, cause, fix]) => ({
  code: code as string,
  status: Number(status),
  cause: cause as string,
  fix: fix as string,
}));

describe('docs/http-api.md', () => {
  it('gives every error code its status, a cause and a fix', () => {
    for (const [code, { status }] of Object.entries(ERRORS)) {
      const row = rows.find((r) => r.code === code);
      expect(row, `${code} has no row in docs/http-api.md`).toBeDefined();
      expect(row?.status, code).toBe(status);
      expect(row?.cause.length, `${code}: cause`).toBeGreaterThan(10);
      expect(row?.fix.length, `${code}: fix`).toBeGreaterThan(5);
    }
  });

  it('lists no code the endpoint does not have, and each once', () => {
    for (const { code } of rows) expect(isErrorCode(code), code).toBe(true);
    expect(new Set(rows.map((r) => r.code)).size).toBe(rows.length);
  });
});
