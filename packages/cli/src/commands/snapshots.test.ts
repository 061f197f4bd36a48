import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapturedSnapshot } from '@opsctl/endpoint/protocol';
import { startEndpoint, type TestEndpoint } from '../../../endpoint/test-support/index.js';
import { runCli } from '../../test-support/index.js';

const work = mkdtempSync(join(tmpdir(), 'opsctl-cli-snapshots-'));
const captureDir = join(work, 'captures');
let ep: TestEndpoint;
let env: Record<string, string>;
let stored: Buffer;
let entry: CapturedSnapshot;

beforeAll(async () => {
  // A real heap snapshot, small and quick: a fresh worker thread's.
  const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
  await once(worker, 'online');
  const chunks: Buffer[] = [];
  for await (const chunk of await worker.getHeapSnapshot()) chunks.push(chunk as Buffer);
  await worker.terminate();
  const raw = Buffer.concat(chunks);
  stored = gzipSync(raw, { level: 1 });
  const id = '20260101T000000Z-heap-above-c0ffee';
  entry = {
    id,
    time: '2026-01-01T00:00:00.000Z',
    rule: 'heap-above',
    reason: "Heap used after GC was 900 MB, above the rule's 800 MB.",
    bytes: stored.length,
    sha256: createHash('sha256').update(stored).digest('hex'),
    snapshotBytes: raw.length,
    heapUsedBytes: 1,
    pauseMs: 1,
    app: 'test',
    host: 'h',
    pid: 1,
  };
  mkdirSync(captureDir);
  writeFileSync(join(captureDir, `${id}.heapsnapshot.gz`), stored);
  writeFileSync(join(captureDir, `${id}.json`), JSON.stringify(entry));
  ep = await startEndpoint({ capture: { dir: captureDir, rules: { heapAboveBytes: 2 ** 50 } } }, { sre: ['heap'] });
  env = { OPSCTL_URL: ep.url, OPSCTL_TOKEN: ep.tokens['sre'] ?? '' };
});
afterAll(async () => {
  await ep.close();
  rmSync(work, { recursive: true, force: true });
});

function outDir(name: string): string {
  const dir = join(work, name);
  rmSync(dir, { recursive: true, force: true });
  return mkdtempSync(`${dir}-`);
}

describe('opsctl snapshots list', () => {
  it('shows the capture settings and the stored captures', async () => {
    const run = await runCli(['snapshots', 'list'], { env });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^capture {2}on: heap above 1126 TB; at most one per 10m$/m);
    expect(run.stdout).toMatch(/^ {9}1 of 3 stored, .* of 2\.1 GB in .*captures$/m);
    expect(run.stdout).toMatch(/^20260101T000000Z-heap-above-c0ffee {2}2026-01-01 00:00:00 {2}heap-above/m);
  });
});

describe('opsctl snapshots get', () => {
  it('writes the snapshot decompressed, verified, and leaves nothing else', async () => {
    const dir = outDir('plain');
    const run = await runCli(['snapshots', 'get', entry.id, '--out', `${dir}/`, '--json'], { env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ id: entry.id, resumedFrom: 0, gzip: false, sha256: entry.sha256 });
    expect(readFileSync(result.path).equals(gunzipSync(stored))).toBe(true);
    expect(readdirSync(dir)).toEqual([`${entry.id}.heapsnapshot`]);
  });

  it('resumes from a partial file with a Range request, with progress on a terminal', async () => {
    const dir = outDir('resume');
    const half = Math.floor(stored.length / 2);
    writeFileSync(join(dir, `.${entry.id}.${entry.sha256.slice(0, 16)}.opsctl-partial`), stored.subarray(0, half));
    const run = await runCli(['snapshots', 'get', entry.id, '--out', join(dir, 'snap.heapsnapshot.gz'), '--gzip'], { env, tty: true });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/SHA-256 verified/);
    expect(run.stdout).toMatch(/resumed an interrupted download at/);
    expect(readFileSync(join(dir, 'snap.heapsnapshot.gz')).equals(stored)).toBe(true);
    expect(readdirSync(dir)).toEqual(['snap.heapsnapshot.gz']);
    expect(ep.events.findLast((e) => e.route === '/snapshots/:id')).toMatchObject({ status: 206, detail: { range: `${half}-${stored.length - 1}` } });
  });

  it('starts over when the partial file is longer than the capture', async () => {
    const dir = outDir('too-long');
    writeFileSync(join(dir, `.${entry.id}.${entry.sha256.slice(0, 16)}.opsctl-partial`), Buffer.concat([stored, Buffer.from('junk')]));
    const run = await runCli(['snapshots', 'get', entry.id, '--out', `${dir}/`, '--json'], { env });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).resumedFrom).toBe(0);
  });

  it('refuses an unknown id with exit 2, and a bad --limit-rate', async () => {
    expect((await runCli(['snapshots', 'get', 'nope', '--out', `${work}/`], { env })).code).toBe(2);
    const rate = await runCli(['snapshots', 'get', entry.id, '--out', `${work}/`, '--limit-rate', 'fast'], { env });
    expect(rate.code).toBe(2);
    expect(rate.stderr).toMatch(/--limit-rate <size>.* 'fast' is invalid\. give a size such as 65536, 64KB or 1\.5MB/);
  });
});
