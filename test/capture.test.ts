// Automatic capture end to end: real applications whose capture rules fire on their own
// GC samples, and the built binary fetching the captures, resuming an interrupted download.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CapturedSnapshot, SnapshotsResponse } from '@opsctl/endpoint/protocol';
import { waitFor } from '../packages/endpoint/test-support/index.js';
import { mintToken, opsctl, opsctlBin, startApp, type RunningApp } from './support/processes.js';

const opsApp = fileURLToPath(new URL('./fixtures/ops-app.mjs', import.meta.url));
const preloadApp = fileURLToPath(new URL('../examples/preload/app.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'opsctl-e2e-capture-'));
let admin: { token: string; line: string };
const apps: RunningApp[] = [];

beforeAll(async () => {
  admin = await mintToken('sre', 'admin');
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface CaptureAudit {
  time: string;
  durationMs: number;
  status: number;
  detail: { outcome: string; reason?: string; message: string; id?: string };
}

/** An app capturing on every post-GC sample (a full GC every 250 ms) into a fresh directory. */
async function start(
  name: string,
  env: Record<string, string>,
): Promise<{ app: RunningApp; dir: string; env: Record<string, string>; captures(): CaptureAudit[] }> {
  const dir = join(work, name);
  const app = await startApp(opsApp, { OPSCTL_TOKENS: admin.line, CAPTURE_DIR: dir, GC_EVERY_MS: '250', HEAP_MB: '2', ...env }, ['--expose-gc']);
  apps.push(app);
  const captures = () =>
    app
      .stderr()
      .split('\n')
      .filter((line) => line.includes('"kind":"capture"'))
      .map((line) => JSON.parse(line) as CaptureAudit);
  return { app, dir, env: { OPSCTL_URL: app.ops, OPSCTL_TOKEN: admin.token }, captures };
}

async function list(env: Record<string, string>): Promise<SnapshotsResponse> {
  const run = await opsctl(['snapshots', 'list', '--json'], { env });
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout);
}

describe('capture rules', () => {
  it('fire at most once per cooldown, stop at maxCount, and resume when a capture is removed', async () => {
    const cooldownMs = 2_000;
    const { app, dir, env, captures } = await start('count', { CAPTURE_COOLDOWN_MS: String(cooldownMs), CAPTURE_MAX_COUNT: '2' });
    await waitFor(() => captures().some((e) => e.detail.reason === 'max-count'), 30_000);
    const events = captures();
    const attempts = events.map((e) => Date.parse(e.time) - e.durationMs);
    for (let i = 1; i < attempts.length; i++) expect(attempts[i]! - attempts[i - 1]!).toBeGreaterThanOrEqual(cooldownMs - 50);
    expect(events.map((e) => e.detail.outcome)).toEqual(['captured', 'captured', 'skipped']);
    expect(events[2]).toMatchObject({ status: 507, detail: { reason: 'max-count' } });

    const listed = await list(env);
    expect(listed.snapshots.map((s) => s.id)).toEqual(events.slice(0, 2).map((e) => e.detail.id));
    expect(listed.capture).toMatchObject({ enabled: true, count: 2, maxCount: 2, lastEvent: { outcome: 'skipped', reason: 'max-count' } });
    expect(readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot.gz'))).toHaveLength(2);
    const human = await opsctl(['snapshots', 'list'], { env });
    expect(human.stdout).toMatch(/^capture\s+on: heap above 1 B; at most one per 2s$/m);
    expect(human.stdout).toMatch(/2 of 2 stored/);

    const removed = await opsctl(['snapshots', 'rm', listed.snapshots[0]!.id], { env });
    expect(removed.code).toBe(0);
    expect(removed.stdout).toMatch(/Removed .*heap-above/);
    await waitFor(() => captures().filter((e) => e.detail.outcome === 'captured').length === 3, 30_000);
    expect((await list(env)).snapshots).toHaveLength(2);
    expect(app.child.exitCode).toBeNull();
  });

  it('never lets the captures, with the one being written, outgrow maxDiskBytes', async () => {
    // Room for the worst-case uncompressed file and then some: a few compressed captures fit.
    const { env, dir, captures } = await start('budget', { CAPTURE_COOLDOWN_MS: '300', CAPTURE_MAX_COUNT: '50', CAPTURE_DISK_BUDGET_HEAPS: '3.84' });
    await waitFor(() => captures().some((e) => e.detail.reason === 'disk-budget'), 60_000);
    const { snapshots, capture } = await list(env);
    expect(snapshots.length).toBeGreaterThanOrEqual(1);
    const stored = snapshots.reduce((sum, s) => sum + s.bytes, 0);
    expect(stored).toBe(capture.diskBytes);
    expect(stored).toBeLessThanOrEqual(capture.maxDiskBytes);
    const skip = captures().find((e) => e.detail.reason === 'disk-budget');
    expect(skip?.detail.message).toMatch(/could need .* while written, over the budget of/);
    // Nothing else in the directory: no temp files left behind.
    expect(readdirSync(dir).sort()).toEqual(snapshots.flatMap((s) => [`${s.id}.heapsnapshot.gz`, `${s.id}.json`]).sort());
  });

  it('reports an unwritable directory in info, status and the audit log, and the application runs on', async () => {
    const readOnly = makeReadOnlyDir(join(work, 'read-only'));
    try {
      const { app, env, captures } = await start('read-only', { CAPTURE_DIR: readOnly.dir });
      await waitFor(() => captures().length > 0, 10_000);
      expect(captures()[0]).toMatchObject({
        status: 500,
        detail: {
          outcome: 'disabled',
          reason: 'dir-unusable',
          message: expect.stringMatching(/cannot be written \((permission denied|read-only file system)\)/),
        },
      });
      const status = await opsctl(['status'], { env });
      expect(status.stdout).toMatch(/^capture\s+disabled: the capture directory .*read-only cannot be written/m);
      const info = JSON.parse((await opsctl(['status', '--json'], { env })).stdout);
      expect(info.capture).toMatchObject({ enabled: false, disabledReason: expect.stringMatching(/cannot be written/) });
      const human = await opsctl(['snapshots', 'list'], { env });
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(/^capture\s+disabled: /m);
      // Sampling goes on (a GC every 250 ms); nothing is attempted, nothing crashes.
      await new Promise((r) => setTimeout(r, 1_000));
      expect(captures()).toHaveLength(1);
      expect(app.child.exitCode).toBeNull();
      expect((await fetch(app.app)).status).toBe(200);
      expect(readdirSync(readOnly.dir)).toEqual([]);
    } finally {
      await Promise.all(apps.splice(0).map((app) => app.stop()));
      readOnly.restore();
    }
  });
});

describe('capture through the preload', () => {
  it('is configured from the environment for an application with no opsctl code', async () => {
    const dir = join(work, 'preload');
    const app = await startApp(
      preloadApp,
      { OPSCTL_TOKENS: admin.line, OPSCTL_PORT: '0', OPSCTL_CAPTURE_DIR: dir, OPSCTL_CAPTURE_HEAP_ABOVE_BYTES: '1', OPSCTL_CAPTURE_MAX_COUNT: '1' },
      ['--import', '@opsctl/endpoint/register'],
    );
    apps.push(app);
    const url = /listening on (\S+)/.exec(app.stderr())?.[1] ?? '';
    const env = { OPSCTL_URL: url, OPSCTL_TOKEN: admin.token };
    // A forced GC sample: the rule fires at once.
    expect((await opsctl(['leaks', '--gc', '--json'], { env })).code).toBe(0);
    await waitFor(() => existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.json')), 20_000);
    const { snapshots, capture } = await list(env);
    expect(snapshots).toHaveLength(1);
    expect(capture).toMatchObject({ enabled: true, maxCount: 1, rules: { heapAboveBytes: 1, onLeakSuspected: false, nearHeapLimitRatio: null } });
  });
});

describe('opsctl snapshots get', () => {
  it('resumes an interrupted download with a Range request, and the bytes match the checksum', async () => {
    const { dir, env, app } = await start('resume', { HEAP_MB: '8', CAPTURE_MAX_COUNT: '1' });
    await waitFor(() => existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.json')), 30_000);
    const [entry] = (await list(env)).snapshots as [CapturedSnapshot];
    const out = join(work, 'resume-out');
    mkdirSync(out);
    const partialOf = () => readdirSync(out).find((f) => f.endsWith('.opsctl-partial'));

    // A slow download, killed outright (no chance to clean up) once part of it has arrived.
    const slow = spawn(process.execPath, [opsctlBin, 'snapshots', 'get', entry.id, '--out', `${out}/`, '--limit-rate', '256KB'], {
      env: { PATH: process.env['PATH'], ...env },
    });
    await waitFor(() => {
      const partial = partialOf();
      return partial !== undefined && statSync(join(out, partial)).size >= 300 * 1024;
    }, 30_000);
    slow.kill('SIGKILL');
    await new Promise((resolve) => slow.once('exit', resolve));
    const kept = statSync(join(out, partialOf()!)).size;
    expect(kept).toBeLessThan(entry.bytes);
    expect(readdirSync(out).filter((f) => !f.startsWith('.'))).toEqual([]);

    const run = await opsctl(['snapshots', 'get', entry.id, '--out', `${out}/`, '--json'], { env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ id: entry.id, resumedFrom: kept, sha256: entry.sha256, path: join(out, `${entry.id}.heapsnapshot`) });
    expect(result.nodes).toBeGreaterThan(50_000);
    // What the endpoint stored, checked here independently of the CLI.
    const stored = readFileSync(join(dir, `${entry.id}.heapsnapshot.gz`));
    expect(createHash('sha256').update(stored).digest('hex')).toBe(entry.sha256);
    expect(readFileSync(result.path).equals(gunzipSync(stored))).toBe(true);
    expect(readdirSync(out)).toEqual([`${entry.id}.heapsnapshot`]);
    const ranged = app
      .stderr()
      .split('\n')
      .filter((l) => l.includes('"route":"/snapshots/:id"'))
      .map((l) => JSON.parse(l))
      .at(-1);
    expect(ranged).toMatchObject({ status: 206, detail: { id: entry.id, range: `${kept}-${entry.bytes - 1}` }, bytes: expect.any(Number) });
  });

  it('refuses bytes that do not match the checksum, removes them, and downloads afresh on the next run', async () => {
    const { dir, env } = await start('checksum', { CAPTURE_MAX_COUNT: '1' });
    await waitFor(() => existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.json')), 30_000);
    const [entry] = (await list(env)).snapshots as [CapturedSnapshot];
    const out = join(work, 'checksum-out');
    mkdirSync(out);
    // A partial file of the right name whose bytes went bad (a flipped byte mid-file).
    const stored = readFileSync(join(dir, `${entry.id}.heapsnapshot.gz`));
    const bad = Buffer.from(stored.subarray(0, Math.floor(stored.length / 2)));
    bad[100] = (bad[100] ?? 0) ^ 0xff;
    const partial = join(out, `.${entry.id}.${entry.sha256.slice(0, 16)}.opsctl-partial`);
    writeFileSync(partial, bad);

    const refused = await opsctl(['snapshots', 'get', entry.id, '--out', join(out, 'snap.heapsnapshot.gz'), '--gzip'], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: the downloaded bytes of .* do not match the checksum the endpoint computed; no file was written$/m);
    expect(refused.stderr).toMatch(/^hint: run the same command again to download it afresh$/m);
    expect(readdirSync(out)).toEqual([]);

    const fresh = await opsctl(['snapshots', 'get', entry.id, '--out', join(out, 'snap.heapsnapshot.gz'), '--gzip', '--json'], { env });
    expect(fresh.code).toBe(0);
    expect(JSON.parse(fresh.stdout)).toMatchObject({ resumedFrom: 0, gzip: true });
    expect(readFileSync(join(out, 'snap.heapsnapshot.gz')).equals(stored)).toBe(true);
  });

  it('refuses an unknown id with exit 2 and a hint', async () => {
    const { env } = await start('unknown', { CAPTURE_HEAP_ABOVE: String(2 ** 40) });
    const run = await opsctl(['snapshots', 'get', '20260101T000000Z-heap-above-000000', '--out', `${work}/`], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^hint: list the captures: opsctl snapshots list$/m);
    const rm = await opsctl(['snapshots', 'rm', 'nope'], { env });
    expect(rm.code).toBe(2);
  });

  it('refuses an id of the wrong shape with exit 2 before asking the endpoint', async () => {
    // Nothing listens here: an id that reached the network would exit 4.
    const env = { OPSCTL_URL: 'http://127.0.0.1:9', OPSCTL_TOKEN: admin.token };
    for (const args of [
      ['rm', '../etc'],
      ['rm', '..'],
      ['get', 'a/b', '--out', `${work}/`],
      ['rm', 'x'.repeat(129)],
      ['get', 'snap shot', '--out', `${work}/`],
    ]) {
      const run = await opsctl(['snapshots', ...args], { env });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^error: .+ is not a capture id/m);
      expect(run.stderr).toMatch(/^hint: list the captures: opsctl snapshots list$/m);
    }
  });
});

/** A directory this process cannot write: mode 0555, or for root (which ignores modes) a read-only tmpfs. */
function makeReadOnlyDir(dir: string): { dir: string; restore(): void } {
  mkdirSync(dir, { recursive: true });
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o555);
    return { dir, restore: () => chmodSync(dir, 0o755) };
  }
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', dir]);
  return { dir, restore: () => execFileSync('umount', [dir]) };
}
