import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, jsonOf, startEndpoint, type TestEndpoint } from '../../test-support/index.js';
import { REDACTED } from '../diagnostics/report.js';

let ep: TestEndpoint;
beforeAll(async () => {
  ep = await startEndpoint({}, { profiler: ['profile'], reader: ['read'] });
});
afterAll(() => ep.close());

type ReportSettings = typeof process.report & { excludeNetwork?: boolean };

describe('GET /report', () => {
  it('answers Node\'s diagnostic report with environment values redacted and no network lookups', async () => {
    process.env['OPSCTL_TEST_SECRET'] = 'hunter2';
    try {
      const res = await fetch(`${ep.url}/report`, { headers: bearer(ep.tokens['profiler']) });
      expect(res.status).toBe(200);
      const report = await jsonOf(res);
      expect(report.header.processId).toBe(process.pid);
      expect(report.environmentVariables['OPSCTL_TEST_SECRET']).toBe(REDACTED);
      expect(JSON.stringify(report)).not.toContain('hunter2');
      // excludeNetwork: no interface list, and sockets by address, never by a reverse-DNS name.
      expect(report.header.networkInterfaces).toBeUndefined();
      const sockets = report.libuv.filter((h: { type: string; remoteEndpoint?: unknown }) => h.type === 'tcp' && h.remoteEndpoint);
      expect(sockets.length).toBeGreaterThan(0);
      for (const socket of sockets) expect(socket.remoteEndpoint.host).toBe(socket.remoteEndpoint.ip4 ?? socket.remoteEndpoint.ip6);
    } finally {
      delete process.env['OPSCTL_TEST_SECRET'];
    }
  });

  it('restores the application\'s own excludeNetwork setting', async () => {
    const settings = process.report as ReportSettings;
    settings.excludeNetwork = false;
    await (await fetch(`${ep.url}/report`, { headers: bearer(ep.tokens['profiler']) })).arrayBuffer();
    expect(settings.excludeNetwork).toBe(false);
  });

  it('needs the profile scope', async () => {
    expect((await fetch(`${ep.url}/report`, { headers: bearer(ep.tokens['reader']) })).status).toBe(403);
  });
});
