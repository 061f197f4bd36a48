import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audited, bearer, jsonOf, startEndpoint, type TestEndpoint, waitFor } from '../../test-support/index.js';
import { PROFILE_SECONDS_HEADER } from '../protocol/index.js';

let ep: TestEndpoint;
beforeAll(async () => {
  ep = await startEndpoint({}, { profiler: ['profile'], reader: ['read'] });
});
afterAll(() => ep.close());

const get = (path: string) => fetch(`${ep.url}${path}`, { headers: bearer(ep.tokens['profiler']) });

/** Starts a request and resolves once its head has arrived; `abort()` drops the connection. */
function openProfile(path: string): Promise<{ status: number; abort(): void }> {
  return new Promise((resolve, reject) => {
    const req = request(`${ep.url}${path}`, { headers: bearer(ep.tokens['profiler']) }, (res) => {
      res.on('error', () => {});
      resolve({ status: res.statusCode ?? 0, abort: () => req.destroy() });
    });
    req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
    req.end();
  });
}

describe('GET /profile/cpu and /profile/heap', () => {
  it('answers a CPU profile in DevTools format after the given seconds', async () => {
    const started = Date.now();
    const res = await get('/profile/cpu?seconds=1');
    expect(res.status).toBe(200);
    expect(res.headers.get(PROFILE_SECONDS_HEADER)).toBe('1');
    expect(res.headers.get('content-disposition')).toMatch(/\.cpuprofile"$/);
    const profile = await jsonOf(res);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(profile.nodes.length).toBeGreaterThan(0);
    expect(profile.endTime).toBeGreaterThan(profile.startTime);
    expect((await audited(ep, (e) => e.route === '/profile/cpu' && e.detail?.['profileBytes'] !== undefined)).detail).toMatchObject({
      seconds: 1,
      intervalUs: 1000,
      profileBytes: expect.any(Number),
    });
  });

  it('answers a sampling heap profile', async () => {
    const res = await get('/profile/heap?seconds=1&intervalBytes=4096');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/\.heapprofile"$/);
    const profile = await jsonOf(res);
    expect(profile.head.callFrame.functionName).toBe('(root)');
  });

  it('refuses a missing, zero, negative, non-numeric or over-cap duration with 400 naming seconds', async () => {
    for (const seconds of ['0', '-5', 'ten', '', '301']) {
      const res = await get(`/profile/cpu?seconds=${seconds}`);
      expect(res.status, seconds).toBe(400);
      const body = await jsonOf(res);
      expect(body.error).toMatchObject({ code: 'BAD_PARAM', details: { param: 'seconds', max: 300 } });
      expect(body.error.message).toMatch(/seconds must be a number from 1 to 300/);
    }
    expect((await get('/profile/cpu?seconds=1&intervalUs=5')).status).toBe(400);
  });

  it('needs the profile scope', async () => {
    const res = await fetch(`${ep.url}/profile/cpu?seconds=1`, { headers: bearer(ep.tokens['reader']) });
    expect(res.status).toBe(403);
  });

  it('refuses a second profile of either kind with 429 while one runs, and frees the gate when its client goes away', async () => {
    const first = await openProfile('/profile/cpu?seconds=60');
    expect(first.status).toBe(200);
    for (const kind of ['cpu', 'heap']) {
      const busy = await get(`/profile/${kind}?seconds=1`);
      expect(busy.status).toBe(429);
      expect(busy.headers.get('retry-after')).toBe('10');
      expect((await jsonOf(busy)).error.code).toBe('BUSY');
    }
    first.abort();
    await waitFor(() => ep.events.some((e) => e.route === '/profile/cpu' && (e.detail as { aborted?: boolean } | undefined)?.aborted === true));
    const next = await get('/profile/heap?seconds=1');
    expect(next.status).toBe(200);
    await next.json();
  });
});
