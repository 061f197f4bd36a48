import { describe, expect, it } from 'vitest';
import type { AuditEvent } from './audit.js';
import { AuditSummary } from './audit-summary.js';

const refusal = (token: string | null, status: number, code: AuditEvent['code'], address = '10.0.0.1'): AuditEvent => ({
  time: '',
  kind: 'refusal',
  token,
  address,
  method: 'GET',
  path: '/info',
  route: null,
  status,
  code,
  durationMs: 0,
});

describe('AuditSummary', () => {
  it("writes a valid token's first refusal of each kind in full and counts the rest, per token", () => {
    const written: AuditEvent[] = [];
    const summary = new AuditSummary((event) => written.push(event), 60_000);
    for (let i = 0; i < 1000; i++) summary.record(refusal('prometheus', 403, 'SCOPE_MISSING'));
    summary.record(refusal('prometheus', 429, 'BUSY'));
    summary.record(refusal('alice', 403, 'SCOPE_MISSING'));
    // What a token's requests did is never summarised.
    summary.record({ ...refusal('alice', 200, undefined), kind: 'request' });
    expect(written.map((e) => [e.kind, e.token, e.code])).toEqual([
      ['refusal', 'prometheus', 'SCOPE_MISSING'],
      ['refusal', 'prometheus', 'BUSY'],
      ['refusal', 'alice', 'SCOPE_MISSING'],
      ['request', 'alice', undefined],
    ]);
    summary.flush();
    const counts = written.filter((e) => e.kind === 'summary');
    expect(counts).toHaveLength(1);
    expect(counts[0]).toMatchObject({ token: 'prometheus', address: '10.0.0.1', detail: { more: 999, counts: { '403 SCOPE_MISSING': 999 } } });
  });
});
