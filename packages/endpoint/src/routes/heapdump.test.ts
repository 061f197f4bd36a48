import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audited, bearer, jsonOf, startEndpoint, type TestEndpoint } from '../../test-support/index.js';
import { ESTIMATED_SIZE_HEADER, EXPECTED_PAUSE_HEADER, HEAP_USED_HEADER } from '../protocol.js';

const dir = mkdtempSync(join(tmpdir(), 'opsctl-heapdump-test-'));
let ep: TestEndpoint;
beforeAll(async () => {
  ep = await startEndpoint({ heapSnapshot: { dir }, app: { name: 'shop api' } });
});
afterAll(async () => {
  await ep.close();
  rmSync(dir, { recursive: true, force: true });
});

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
    const { request } = await import('node:http');
    const body = await new Promise<{ encoding: string | undefined; bytes: Buffer }>((resolve, reject) => {
      request(`${ep.url}/heapdump`, { headers: { ...bearer(ep.tokens['heap']), 'accept-encoding': 'gzip;q=1, br' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ encoding: res.headers['content-encoding'], bytes: Buffer.concat(chunks) }));
      }).on('error', reject).end();
    });
    expect(body.encoding).toBe('gzip');
    expect(JSON.parse(gunzipSync(body.bytes).toString('utf8')).snapshot.node_count).toBeGreaterThan(0);
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

      const forced = await fetch(`${tight.url}/heapdump?skipMemoryCheck=true`, { headers: bearer(tight.tokens['heap']) });
      expect(forced.status).toBe(200);
      await forced.arrayBuffer();
    } finally {
      await tight.close();
    }
  });
});
