import { request } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, jsonOf, startEndpoint, type TestEndpoint, waitFor } from '../../test-support/index.js';
import type { LeakStatus, LeakStreamLine } from '../protocol/index.js';

let ep: TestEndpoint;
beforeAll(async () => {
  ep = await startEndpoint();
});
afterAll(() => ep.close());

const status = async (query = ''): Promise<LeakStatus> => jsonOf(await fetch(`${ep.url}/leaks${query}`, { headers: bearer(ep.tokens['reader']) }));

/** Opens the NDJSON stream; collects lines until `close()`. */
function openStream(query = '') {
  const lines: LeakStreamLine[] = [];
  let buffer = '';
  let req!: ReturnType<typeof request>;
  const opened = new Promise<void>((resolve, reject) => {
    req = request(`${ep.url}/leaks/stream${query}`, { headers: bearer(ep.tokens['reader']) }, (res) => {
      expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
      res.setEncoding('utf8').on('data', (chunk: string) => {
        buffer += chunk;
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          lines.push(JSON.parse(buffer.slice(0, newline)));
          buffer = buffer.slice(newline + 1);
        }
      });
      res.on('error', () => {});
      resolve();
    });
    req.on('error', reject);
    req.end();
  });
  return { lines, opened, close: () => req.destroy() };
}

/** V8's full GC, without --expose-gc: a context made while the flag is on gets `gc`. */
function fullGc(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  setFlagsFromString('--no-expose-gc');
  gc();
}

describe('GET /leaks', () => {
  it('answers a verdict with its evidence, and forces a GC sample with gc=true', async () => {
    const before = await status();
    // A fresh endpoint has too few samples to judge: unknown, never ok.
    expect(before.verdict.verdict).toBe('unknown');
    expect(before.verdict.samplesNeeded).toBeGreaterThan(0);
    expect(before.verdict.reason).toMatch(/\.$/);
    expect(before.verdict.series.heapUsed).toHaveProperty('failed');
    expect(before.gcRequest).toBeUndefined();
    expect(before.sampling).toMatchObject({ naturalGcs: expect.any(Number), forcedGcs: expect.any(Number), maxGapMs: expect.any(Number) });
    const after = await status('?gc=true');
    expect(after.gcRequest).toEqual({ forced: true, refusal: null });
    expect(after.samples.length).toBeGreaterThan(before.samples.length);
    expect(after.samples.at(-1)).toEqual({
      time: expect.any(Number),
      heapUsed: expect.any(Number),
      external: expect.any(Number),
      rss: expect.any(Number),
      forced: true,
    });
    expect(after.sampling.forcedGcs).toBe(before.sampling.forcedGcs + 1);
  });

  it('says when it refused to force a GC, and when one may be asked for again', async () => {
    await status('?gc=true');
    const refused = await status('?gc=true');
    expect(refused.gcRequest).toMatchObject({ forced: false, refusal: { code: 'GC_TOO_SOON', message: expect.any(String), retryAt: expect.any(Number) } });
    expect(refused.gcRequest?.refusal?.retryAt).toBeGreaterThan(refused.samples.at(-1)?.time ?? 0);
  });

  it('refuses a non-boolean gc parameter', async () => {
    const res = await fetch(`${ep.url}/leaks?gc=often`, { headers: bearer(ep.tokens['reader']) });
    expect(res.status).toBe(400);
  });

  it('is off when the application turns leak detection off', async () => {
    const off = await startEndpoint({ leaks: false });
    try {
      const res = await fetch(`${off.url}/leaks`, { headers: bearer(off.tokens['reader']) });
      expect(res.status).toBe(404);
      expect((await jsonOf(res)).error.code).toBe('FEATURE_DISABLED');
    } finally {
      await off.close();
    }
  });
});

describe('GET /leaks/stream', () => {
  it('sends a status line, a line per GC sample, and heartbeats', async () => {
    const stream = openStream('?heartbeatMs=100');
    try {
      await stream.opened;
      await waitFor(() => stream.lines.length >= 1);
      expect(stream.lines[0]).toMatchObject({ type: 'status', watchers: 1 });
      fullGc(); // a real major GC: the sampler sees it and every watcher gets its sample
      await waitFor(() => stream.lines.some((l) => l.type === 'sample'));
      await waitFor(() => stream.lines.some((l) => l.type === 'heartbeat'));
    } finally {
      stream.close();
    }
  });

  it('leaves no listener or timer behind when the client goes away', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    await waitFor(async () => (await status()).watchers === 0);
    const baseline = timers();
    const streams = Array.from({ length: 5 }, () => openStream('?heartbeatMs=100'));
    await Promise.all(streams.map((s) => s.opened));
    await waitFor(() => streams.every((s) => s.lines.length > 0));
    expect((await status()).watchers).toBe(5);
    for (const s of streams) s.close();
    await waitFor(async () => (await status()).watchers === 0);
    await waitFor(() => timers() <= baseline);
  });

  it('ends open streams when the endpoint closes', async () => {
    const own = await startEndpoint();
    const ended = new Promise<void>((resolve) => {
      request(`${own.url}/leaks/stream`, { headers: bearer(own.tokens['reader']) }, (res) => {
        res.resume();
        res.on('end', resolve);
      }).end();
    });
    await new Promise((r) => setTimeout(r, 100));
    await own.close();
    await ended;
  });
});
