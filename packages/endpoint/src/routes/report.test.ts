import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, jsonOf, startEndpoint, type TestEndpoint } from '../../test-support/index.js';
import { REDACTED, redactCommandLine } from '../diagnostics/report.js';

let ep: TestEndpoint;
beforeAll(async () => {
  ep = await startEndpoint({}, { profiler: ['profile'], reader: ['read'] });
});
afterAll(() => ep.close());

type ReportSettings = typeof process.report & { excludeNetwork?: boolean };

describe('GET /report', () => {
  it("answers Node's diagnostic report with environment values redacted and no network lookups", async () => {
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

  it("redacts the environment values in every worker thread's report too", async () => {
    process.env['OPSCTL_TEST_SECRET'] = 'hunter3';
    const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
    try {
      await once(worker, 'online');
      const res = await fetch(`${ep.url}/report`, { headers: bearer(ep.tokens['profiler']) });
      const report = await jsonOf(res);
      expect(report.workers.length).toBeGreaterThan(0);
      for (const inner of report.workers) expect(inner.environmentVariables['OPSCTL_TEST_SECRET']).toBe(REDACTED);
      expect(JSON.stringify(report)).not.toContain('hunter3');
    } finally {
      await worker.terminate();
      delete process.env['OPSCTL_TEST_SECRET'];
    }
  });

  it('redacts the values of secret-looking flags on the command line, and keeps the rest', () => {
    expect(
      redactCommandLine([
        'node',
        '--max-old-space-size=512',
        'server.js',
        '--password=hunter2',
        '--api-token',
        's3cret',
        '--port',
        '8080',
        'DB_PASS=x',
        '--clientKey',
        '--verbose',
        '--credentials-file',
        '/etc/app/creds',
        '-e',
        'const key = 1',
      ]),
    ).toEqual([
      'node',
      '--max-old-space-size=512',
      'server.js',
      `--password=${REDACTED}`,
      '--api-token',
      REDACTED,
      '--port',
      '8080',
      `DB_PASS=${REDACTED}`,
      '--clientKey',
      '--verbose',
      '--credentials-file',
      REDACTED,
      '-e',
      'const key = 1',
    ]);
  });

  it("restores the application's own excludeNetwork setting", async () => {
    const settings = process.report as ReportSettings;
    settings.excludeNetwork = false;
    await (await fetch(`${ep.url}/report`, { headers: bearer(ep.tokens['profiler']) })).arrayBuffer();
    expect(settings.excludeNetwork).toBe(false);
  });

  it('needs the profile scope', async () => {
    expect((await fetch(`${ep.url}/report`, { headers: bearer(ep.tokens['reader']) })).status).toBe(403);
  });
});
