import { describe, expect, it } from 'vitest';
import { auditLine, auditTime, type AuditEvent } from './audit.js';

const refusal: AuditEvent = {
  time: '2026-11-25T23:00:00.000Z',
  kind: 'refusal',
  token: null,
  address: '127.0.0.1',
  method: 'GET',
  path: '/heapdump',
  route: null,
  status: 401,
  code: 'AUTH_REQUIRED',
  durationMs: 0,
};

describe('audit lines', () => {
  it('hold the same fields as the event, tagged, on one line', () => {
    const request: AuditEvent = {
      ...refusal,
      kind: 'request',
      token: 'sre',
      route: '/heapdump',
      status: 200,
      bytes: 1234,
      detail: { gzip: true, pauseMs: 12 },
    };
    delete request.code;
    for (const event of [refusal, request]) {
      const line = auditLine(event);
      expect(line.endsWith('}\n')).toBe(true);
      expect(line.slice(0, -1)).not.toContain('\n');
      expect(JSON.parse(line)).toEqual({ opsctl: 'audit', ...event });
    }
  });

  it('escape whatever a caller put in the path or method', () => {
    const hostile = { ...refusal, method: 'G"ET', path: '/x"}\n{"opsctl":"audit","token":"root\u2028\\' };
    const line = auditLine(hostile);
    expect(line.split('\n')).toHaveLength(2);
    expect(JSON.parse(line)).toMatchObject({ method: 'G"ET', path: hostile.path, token: null });
  });

  it('take their time from a clock that is at most a millisecond stale', () => {
    const before = Date.now();
    const time = Date.parse(auditTime());
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(Date.now());
  });
});
