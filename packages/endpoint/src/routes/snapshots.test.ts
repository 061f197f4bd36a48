import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audited, bearer, jsonOf, startEndpoint, type TestEndpoint } from '../../test-support/index.js';
import type { CapturedSnapshot, InfoResponse, SnapshotsResponse } from '../protocol/index.js';

const dir = mkdtempSync(join(tmpdir(), 'opsctl-snapshots-test-'));
const id = '20260101T000000Z-heap-above-abc123';
// Random, so incompressible: a file large enough for ranges to mean something.
const bytes = gzipSync(randomBytes(50_000));
const sha256 = createHash('sha256').update(bytes).digest('hex');
const entry: CapturedSnapshot = {
  id,
  time: '2026-01-01T00:00:00.000Z',
  rule: 'heap-above',
  reason: 'Test.',
  bytes: bytes.length,
  sha256,
  snapshotBytes: 100,
  heapUsedBytes: 50,
  pauseMs: 1,
  app: 'test',
  host: 'h',
  pid: 1,
};

function store(capture: CapturedSnapshot, content: Buffer): void {
  writeFileSync(join(dir, `${capture.id}.heapsnapshot.gz`), content);
  writeFileSync(join(dir, `${capture.id}.json`), JSON.stringify(capture));
}

let ep: TestEndpoint;
beforeAll(async () => {
  store(entry, bytes);
  // What crashes leave: a capture without metadata, the temp directory of a dead process.
  writeFileSync(join(dir, '20250101T000000Z-heap-above-dead00.heapsnapshot.gz'), 'half');
  mkdirSync(join(dir, '.opsctl-capture-999999999-x'));
  // A rule that never fires: the stored captures are what is tested here.
  ep = await startEndpoint({ capture: { dir, rules: { heapAboveBytes: 2 ** 50 } } }, { sre: ['heap'], reader: ['read'] });
});
afterAll(async () => {
  await ep.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
  fetch(`${ep.url}${path}`, { method, headers: { ...bearer(ep.tokens['sre']), ...headers } });

describe('GET /snapshots', () => {
  it('lists complete captures with the capture status, after clearing what crashes left', async () => {
    const res = await get('/snapshots');
    expect(res.status).toBe(200);
    const body = (await jsonOf(res)) as SnapshotsResponse;
    expect(body.snapshots).toEqual([entry]);
    expect(body.capture).toMatchObject({
      enabled: true,
      disabledReason: null,
      dir,
      count: 1,
      diskBytes: bytes.length,
      maxCount: 3,
      cooldownMs: 600_000,
      lastEvent: null,
    });
    expect(readdirSync(dir).sort()).toEqual([`${id}.heapsnapshot.gz`, `${id}.json`]);
  });

  it('shows the capture status in GET /info', async () => {
    const info = (await jsonOf(await get('/info'))) as InfoResponse;
    expect(info.capture).toMatchObject({ enabled: true, count: 1 });
    expect(info.capabilities).toEqual(expect.arrayContaining(['snapshots', 'snapshot-get', 'snapshot-delete']));
  });

  it('needs the heap scope', async () => {
    expect((await fetch(`${ep.url}/snapshots`, { headers: bearer(ep.tokens['reader']) })).status).toBe(403);
  });
});

describe('GET /snapshots/:id', () => {
  it('sends the stored bytes with their checksum as ETag and Repr-Digest', async () => {
    const res = await get(`/snapshots/${id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe(`"${sha256}"`);
    expect(res.headers.get('repr-digest')).toBe(`sha-256=:${Buffer.from(sha256, 'hex').toString('base64')}:`);
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('content-type')).toBe('application/gzip');
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('resumes from an offset with 206 and Content-Range when If-Range matches', async () => {
    const res = await get(`/snapshots/${id}`, { range: 'bytes=1000-', 'if-range': `"${sha256}"` });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes 1000-${bytes.length - 1}/${bytes.length}`);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes.subarray(1000))).toBe(true);
    expect((await audited(ep, (e) => e.route === '/snapshots/:id' && e.detail?.['range'] !== undefined)).detail).toMatchObject({
      id,
      range: `1000-${bytes.length - 1}`,
    });
  });

  it('sends the whole file when If-Range names another version', async () => {
    const res = await get(`/snapshots/${id}`, { range: 'bytes=1000-', 'if-range': '"0000"' });
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(bytes.length);
  });

  it('answers a range past the end with 416 and the size', async () => {
    const res = await get(`/snapshots/${id}`, { range: `bytes=${bytes.length}-` });
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
    expect((await jsonOf(res)).error.code).toBe('RANGE_NOT_SATISFIABLE');
  });

  it('answers an unknown or malformed id with 404 UNKNOWN_SNAPSHOT', async () => {
    for (const unknown of ['20260101T000000Z-heap-above-ffffff', 'not-an-id']) {
      const res = await get(`/snapshots/${unknown}`);
      expect(res.status).toBe(404);
      expect((await jsonOf(res)).error).toMatchObject({ code: 'UNKNOWN_SNAPSHOT', details: { id: unknown } });
    }
  });
});

describe('DELETE /snapshots/:id', () => {
  it('removes a capture and says what it was', async () => {
    const other: CapturedSnapshot = { ...entry, id: '20260102T000000Z-leak-suspected-abcdef', rule: 'leak-suspected' };
    store(other, bytes);
    const res = await get(`/snapshots/${other.id}`, {}, 'DELETE');
    expect(res.status).toBe(200);
    expect(await jsonOf(res)).toEqual({ deleted: other });
    expect(existsSync(join(dir, `${other.id}.json`))).toBe(false);
    expect(existsSync(join(dir, `${other.id}.heapsnapshot.gz`))).toBe(false);
    expect((await get(`/snapshots/${other.id}`, {}, 'DELETE')).status).toBe(404);
  });
});

describe('automatic capture options', () => {
  it('is off without the option, and refused with leak detection off', async () => {
    const off = await startEndpoint();
    try {
      const res = await fetch(`${off.url}/snapshots`, { headers: bearer(off.tokens['heap']) });
      expect((await jsonOf(res)).error.code).toBe('FEATURE_DISABLED');
      expect(((await jsonOf(await fetch(`${off.url}/info`, { headers: bearer(off.tokens['reader']) }))) as InfoResponse).capture).toBeNull();
    } finally {
      await off.close();
    }
    await expect(startEndpoint({ leaks: false, capture: { dir, rules: { onLeakSuspected: true } } })).rejects.toThrow(/capture.*leak detection/);
  });

  it('reports an unusable directory in GET /info and the audit log instead of throwing', async () => {
    const file = join(dir, `${id}.json`);
    const broken = await startEndpoint({ capture: { dir: join(file, 'sub'), rules: { nearHeapLimitRatio: 0.9 } } });
    try {
      const info = (await jsonOf(await fetch(`${broken.url}/info`, { headers: bearer(broken.tokens['reader']) }))) as InfoResponse;
      expect(info.capture).toMatchObject({
        enabled: false,
        disabledReason: expect.stringMatching(/cannot be written \(a part of the path is not a directory\)/),
      });
      expect(broken.events.find((e) => e.kind === 'capture')).toMatchObject({
        status: 500,
        code: 'INTERNAL',
        detail: { outcome: 'disabled', reason: 'dir-unusable' },
      });
    } finally {
      await broken.close();
    }
  });
});
