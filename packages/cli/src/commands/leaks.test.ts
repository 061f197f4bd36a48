import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LeakStatus, LeakStreamLine, LeakVerdict, SamplerStats } from '../endpoint/protocol.js';
import { runCli } from '../../test-support/index.js';

const T0 = Date.UTC(2025, 0, 1);
const evidence = {
  level: 'unknown',
  slopeBytesPerHour: null,
  growthBytes: null,
  baselineBytes: null,
  requiredGrowthBytes: null,
  rSquared: null,
  mannKendallZ: null,
  firstHalfSlopeBytesPerHour: null,
  laterHalfSlopeBytesPerHour: null,
  failed: ['too-few-samples'],
} as const;
const verdict = {
  verdict: 'unknown',
  reason: 'too few samples',
  samplesUsed: 1,
  bucketsFilled: 1,
  fittedOn: 'samples',
  samplesNeeded: 5,
  spanSeconds: 0,
  warmupSeconds: 10,
  suspectPossibleAt: T0,
  series: { heapUsed: { ...evidence, failed: [...evidence.failed] }, external: { ...evidence, failed: [...evidence.failed] } },
  settings: {},
} as unknown as LeakVerdict;
const stats = (forcedGcs: number, forcedPauseMs: number): SamplerStats => ({
  naturalGcs: 0,
  naturalPauseMs: 0,
  forcedGcs,
  forcedPauseMs,
  maxGapMs: 5_000,
  lastRefusal: null,
});
const sample = (time: number) => ({ time, heapUsed: 30e6, external: 1e6, rss: 90e6, forced: true });

// An endpoint whose stream sends a status line, then samples that carry newer GC counts, then ends.
let server: Server;
let url: string;
let lines: LeakStreamLine[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url?.startsWith('/leaks?') || req.url === '/leaks')
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(lines[0]));
    if (!req.url?.startsWith('/leaks/stream')) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.end(lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

describe('opsctl leaks --watch', () => {
  const status: LeakStatus = { verdict, samples: [sample(T0)], since: T0 - 60_000, time: T0, watchers: 1, sampling: stats(1, 17) };

  it('shows the GC counts of the newest sample, not those of the status line it started from', async () => {
    lines = [
      { type: 'status', ...status },
      { type: 'sample', sample: sample(T0 + 5_000), verdict, changed: false, sampling: stats(12, 1982) },
    ];
    const run = await runCli(['leaks', '--watch'], { tty: true, env: { OPSCTL_URL: url, OPSCTL_TOKEN: 'opsctl_test' } });
    const frames = run.stdout.split('evidence');
    expect(frames.at(-1)).toMatch(/12 GCs forced \(1982 ms of pause\)/);
  });

  it("keeps the status line's counts when the endpoint sends samples without them", async () => {
    lines = [
      { type: 'status', ...status },
      { type: 'sample', sample: sample(T0 + 5_000), verdict, changed: false },
    ];
    const run = await runCli(['leaks', '--watch'], { tty: true, env: { OPSCTL_URL: url, OPSCTL_TOKEN: 'opsctl_test' } });
    expect(run.stdout.split('evidence').at(-1)).toMatch(/1 GC forced \(17 ms of pause\)/);
  });
});

describe('opsctl leaks', () => {
  it('labels its last row by what it shows, not "watching", and counts one sample and one bucket in the singular', async () => {
    const status: LeakStatus = { verdict, samples: [sample(T0)], since: T0 - 60_000, time: T0 + 4_000, watchers: 0, sampling: stats(1, 17) };
    lines = [{ type: 'status', ...status }];
    const run = await runCli(['leaks'], { env: { OPSCTL_URL: url, OPSCTL_TOKEN: 'opsctl_test' } });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^evidence {2}1 sample over 0s \(1 bucket\), /m);
    expect(run.stdout).toMatch(/^sampling {2}last sample 4s ago \(forced GC\); monitored for 1m 4s$/m);
    expect(run.stdout).not.toMatch(/watching/);
  });
});
