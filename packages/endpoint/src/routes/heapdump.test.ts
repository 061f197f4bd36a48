import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audited, bearer, jsonOf, startEndpoint, waitFor, type TestEndpoint } from '../../test-support/index.js';
import { ESTIMATED_SIZE_HEADER, EXPECTED_PAUSE_HEADER, HEAP_USED_HEADER, KERNEL_HEADER, kernelKey, PAUSE_TRAILER } from '../protocol/index.js';
import { MAX_SNAPSHOT_FILES } from './heapdump.js';

const dir = mkdtempSync(join(tmpdir(), 'opsctl-heapdump-test-'));
let ep: TestEndpoint;
beforeAll(async () => {
  ep = await startEndpoint({ heapSnapshot: { dir }, app: { name: 'shop api' } });
});
afterAll(async () => {
  await ep.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  trailers: NodeJS.Dict<string>;
  body: Buffer;
}

// A connection of its own each: one kept alive would be closed by the server while this
// thread is paused by a snapshot of its own heap, and reused after.

/**
 * GET /heapdump with the heap token and `headers`, read to its end; a refusal for pacing
 * (the previous snapshot's pause not yet matched, SnapshotPacing) is waited out.
 */
async function get(target: TestEndpoint, headers: Record<string, string>): Promise<Answer> {
  for (;;) {
    const answer = await getOnce(target, headers);
    const retryInMs = answer.status === 429 ? JSON.parse(answer.body.toString()).error.details?.retryInMs : undefined;
    if (typeof retryInMs !== 'number') return answer;
    await new Promise((r) => setTimeout(r, retryInMs));
  }
}

function getOnce(target: TestEndpoint, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    request(`${target.url}/heapdump`, { agent: false, headers: { ...bearer(target.tokens['heap']), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, trailers: res.trailers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

/** GET /heapdump whose body is not read until `read()`: the client of a slow link. */
function getPaused(target: TestEndpoint): Promise<{ status: number; read(): Promise<Buffer> }> {
  return new Promise((resolve, reject) => {
    request(`${target.url}/heapdump`, { agent: false, headers: bearer(target.tokens['heap']) }, (res) => {
      res.pause();
      const read = () =>
        new Promise<Buffer>((done, fail) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => done(Buffer.concat(chunks)));
          res.on('error', fail);
          res.resume();
        });
      resolve({ status: res.statusCode ?? 0, read });
    })
      .on('error', reject)
      .end();
  });
}

/** The server removes its temp file right after the response ends: wait for that, briefly. */
async function emptied(path: string): Promise<void> {
  for (let i = 0; i < 100 && readdirSync(path).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  expect(readdirSync(path)).toEqual([]);
}

describe('GET /heapdump', () => {
  it('streams a complete V8 heap snapshot, gzipped when accepted, and leaves no file behind', async () => {
    const res = await fetch(`${ep.url}/heapdump`, { headers: { ...bearer(ep.tokens['heap']), 'accept-encoding': 'gzip' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="shop_api-.+-\d+-\d{8}T\d{6}Z\.heapsnapshot"$/);
    expect(Number(res.headers.get(HEAP_USED_HEADER))).toBeGreaterThan(1_000_000);
    expect(Number(res.headers.get(EXPECTED_PAUSE_HEADER))).toBeGreaterThan(0);
    expect(Number(res.headers.get(ESTIMATED_SIZE_HEADER))).toBeGreaterThan(0);
    // fetch decodes gzip itself; check the wire format with a raw read too
    const snapshot = JSON.parse(await res.text());
    expect(snapshot.snapshot.meta.node_fields).toContain('self_size');
    expect(snapshot.nodes.length).toBe(snapshot.snapshot.node_count * snapshot.snapshot.meta.node_fields.length);
    await emptied(dir);
    const audit = await audited(ep, (e) => e.route === '/heapdump' && e.status === 200);
    expect(audit?.token).toBe('heap');
    expect(audit?.detail).toMatchObject({ gzip: true, snapshotBytes: expect.any(Number), pauseMs: expect.any(Number) });
    expect(audit?.bytes).toBeGreaterThan(0);
  });

  it('sends gzip on the wire only to clients that accept it', async () => {
    const answer = await get(ep, { 'accept-encoding': 'gzip;q=1, br' });
    expect(answer.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(answer.body).toString('utf8')).snapshot.node_count).toBeGreaterThan(0);
  });

  it('sends it uncompressed to a client on this kernel, even one that accepts gzip, with the pause in a trailer', async () => {
    const kernel = kernelKey();
    expect(kernel).toMatch(/^[\w-]{32}$/); // Linux: the tests run there
    const local = await get(ep, { 'accept-encoding': 'gzip', [KERNEL_HEADER]: kernel ?? '' });
    expect(local.headers['content-encoding']).toBeUndefined();
    // The key back: the client learns that the process it paused is on its machine.
    expect(local.headers[KERNEL_HEADER]).toBe(kernel);
    expect(JSON.parse(local.body.toString('utf8')).snapshot.node_count).toBeGreaterThan(0);
    expect(Number(local.trailers[PAUSE_TRAILER])).toBeGreaterThan(0);
    const audit = await audited(ep, (e) => e.route === '/heapdump' && e.detail?.['sameKernel'] === true);
    expect(audit.detail).toMatchObject({ gzip: false, pauseMs: Number(local.trailers[PAUSE_TRAILER]) });

    // Another machine's key, or none: gzip as accepted.
    const remote = await get(ep, { 'accept-encoding': 'gzip', [KERNEL_HEADER]: 'another-machine-entirely-0000000' });
    expect(remote.headers['content-encoding']).toBe('gzip');
    expect(remote.headers[KERNEL_HEADER]).toBeUndefined();
    expect(JSON.parse(gunzipSync(remote.body).toString('utf8')).snapshot.node_count).toBeGreaterThan(0);
    await emptied(dir);
  });

  it('refuses a token without the heap scope with 403', async () => {
    const res = await fetch(`${ep.url}/heapdump`, { headers: bearer(ep.tokens['reader']) });
    expect(res.status).toBe(403);
    const body = await jsonOf(res);
    expect(body.error).toMatchObject({ code: 'SCOPE_MISSING', details: { required: 'heap', held: ['read'] } });
  });

  it('refuses a bad parameter with 400 naming it', async () => {
    const res = await fetch(`${ep.url}/heapdump?skipMemoryCheck=maybe`, { headers: bearer(ep.tokens['heap']) });
    expect(res.status).toBe(400);
    const body = await jsonOf(res);
    expect(body.error.code).toBe('BAD_PARAM');
    expect(body.error.message).toMatch(/skipMemoryCheck/);
  });
});

describe('the heap-snapshot gate', () => {
  // Enough heap that a snapshot outgrows what loopback sockets buffer: a client that
  // reads nothing holds its download open.
  let ballast: { i: number; name: string }[] = [];
  beforeAll(() => {
    ballast = Array.from({ length: 300_000 }, (_, i) => ({ i, name: `ballast ${i}` }));
  });
  afterAll(() => {
    ballast = [];
  });

  it('lets the next snapshot start once V8 has written the file, while the first is still downloading; at most two files at once', async () => {
    const slow = await startEndpoint({ heapSnapshot: { dir }, limits: { sendStallMs: 120_000 } });
    try {
      const first = await getPaused(slow);
      expect(first.status).toBe(200);

      // Refused (429) only while the first's V8 write runs; then admitted, though the first
      // client has read nothing and its file is still on disk.
      let second: Awaited<ReturnType<typeof getPaused>> | null = null;
      await waitFor(async () => {
        const attempt = await getPaused(slow);
        if (attempt.status === 200) second = attempt;
        else await attempt.read();
        return second !== null;
      }, 60_000);
      // Both files on disk, each waiting for its client: a third is refused at once.
      await waitFor(async () => {
        const third = await get(slow, {});
        return third.status === 429 && /on their way/.test(JSON.parse(third.body.toString()).error.message) && Number(third.headers['retry-after']) > 0;
      }, 60_000);
      expect(MAX_SNAPSHOT_FILES).toBe(2);
      expect(readdirSync(dir)).toHaveLength(2);
      for (const download of [first, second as unknown as typeof first]) {
        const snapshot = JSON.parse((await download.read()).toString('utf8'));
        expect(snapshot.nodes.length).toBe(snapshot.snapshot.node_count * snapshot.snapshot.meta.node_fields.length);
      }
      expect(ballast.length).toBe(300_000);
      await emptied(dir);
    } finally {
      await slow.close();
    }
  }, 180_000);

  it('paces snapshots asked for back to back: the next may start once as long has passed as the previous one paused', async () => {
    const paced = await startEndpoint({ heapSnapshot: { dir } });
    try {
      const first = await getOnce(paced, {});
      expect(first.status).toBe(200);
      const pauseMs = Number(first.trailers[PAUSE_TRAILER]);
      const next = await getOnce(paced, {});
      expect(next.status).toBe(429);
      const { error } = JSON.parse(next.body.toString());
      expect(error).toMatchObject({ code: 'BUSY', details: { previousPauseMs: pauseMs, retryInMs: expect.any(Number) } });
      expect(error.details.retryInMs).toBeLessThanOrEqual(pauseMs);
      expect(error.message).toMatch(/^The previous heap snapshot paused the application for \d+\.\d s; the next may start in \d+\.\d s\.$/);
      expect(Number(next.headers['retry-after'])).toBe(Math.max(1, Math.ceil(error.details.retryInMs / 1000)));
      await new Promise((r) => setTimeout(r, error.details.retryInMs));
      expect((await getOnce(paced, {})).status).toBe(200);
      expect(ballast.length).toBe(300_000);
      await emptied(dir);
    } finally {
      await paced.close();
    }
  }, 60_000);
});

describe('memory preflight', () => {
  it('refuses with 503, the estimate, the headroom and how to override, when the snapshot would not fit', async () => {
    const tight = await startEndpoint({ memoryLimitBytes: process.memoryUsage.rss() + 50 * 1024 * 1024, heapSnapshot: { dir } });
    try {
      const res = await fetch(`${tight.url}/heapdump`, { headers: bearer(tight.tokens['heap']) });
      expect(res.status).toBe(503);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      const body = await jsonOf(res);
      expect(body.error.code).toBe('LOW_MEMORY');
      expect(body.error.message).toMatch(/skipMemoryCheck=true/);
      expect(body.error.details).toMatchObject({ limitSource: 'configured', memoryFactor: 24 });
      expect(body.error.details.estimatedExtraBytes).toBeGreaterThan(body.error.details.headroomBytes);
      await emptied(dir);

      const forced = await fetch(`${tight.url}/heapdump?skipMemoryCheck=true`, { headers: bearer(tight.tokens['admin']) });
      expect(forced.status).toBe(200);
      await forced.arrayBuffer();
    } finally {
      await tight.close();
    }
  });
});

describe('skipMemoryCheck', () => {
  it('needs the admin scope: a heap token could otherwise get the application OOM-killed', async () => {
    const res = await fetch(`${ep.url}/heapdump?skipMemoryCheck=true`, { headers: bearer(ep.tokens['heap']) });
    expect(res.status).toBe(403);
    const body = await jsonOf(res);
    expect(body.error).toMatchObject({ code: 'SCOPE_MISSING', details: { required: 'admin', held: ['heap'], param: 'skipMemoryCheck' } });
    expect(body.error.message).toMatch(
      /^skipMemoryCheck=true risks the application being OOM-killed, and needs the "admin" scope, which the token "heap" lacks/,
    );
    await emptied(dir);
  });
});
