// opsctl heapdiff with the built binary refuses comparisons that would report nonsense:
// snapshots of different processes (by the names opsctl heapdump gives them) and
// snapshots given newest first (by their names, or by their newest object ids), unless
// --force says the operator knows better.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, opsctl, startApp, type RunningApp } from './support/processes.js';

const heapApp = fileURLToPath(new URL('./fixtures/heap-app.mjs', import.meta.url));
const snapshotChild = fileURLToPath(new URL('../packages/cli/src/heapsnapshot/fixtures/snapshot-child.mjs', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'opsctl-e2e-heapdiff-'));
const apps: RunningApp[] = [];
let unnamed: string[] = [];

beforeAll(async () => {
  // a, b, c of one process, in the order taken; their names say nothing of it.
  const dir = join(work, 'unnamed');
  mkdirSync(dir);
  unnamed = JSON.parse((await promisify(execFile)(process.execPath, [snapshotChild, 'leak', dir])).stdout) as string[];
});
afterAll(async () => {
  await Promise.all(apps.map((app) => app.stop()));
  rmSync(work, { recursive: true, force: true });
});

async function dumpsOf(count: number): Promise<string[]> {
  const token = await mintToken('sre', 'heap');
  const app = await startApp(heapApp, { OPSCTL_TOKENS: token.line, HEAP_MB: '1' });
  apps.push(app);
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    // Names carry the time to the second: a second apart, they sort as taken.
    if (i > 0) await sleep(1_100);
    const run = await opsctl(['heapdump', '--out', `${work}/`, '--json'], { env: { OPSCTL_URL: app.ops, OPSCTL_TOKEN: token.token } });
    expect(run.code).toBe(0);
    paths.push(JSON.parse(run.stdout).path as string);
  }
  return paths;
}

describe('opsctl heapdiff', () => {
  it('refuses snapshots given newest first, told by their object ids, unless --force', async () => {
    const [a = '', b = '', c = ''] = unnamed;
    const reversed = await opsctl(['heapdiff', b, a]);
    expect(reversed.code).toBe(2);
    expect(reversed.stderr).toMatch(/a\.heapsnapshot holds no object newer than those in .*b\.heapsnapshot: it was taken before it, or in another process/);
    expect(reversed.stderr).toMatch(/^hint: give snapshots of one process, oldest first; pass --force to compare them anyway$/m);
    expect((await opsctl(['heapdiff', a, c, b])).code).toBe(2);
    expect((await opsctl(['heapdiff', b, a, '--force'])).code).toBe(0);
    expect((await opsctl(['heapdiff', a, b, c])).code).toBe(0);
  });

  it('refuses, before reading them, snapshots that opsctl heapdump named after two processes, or newest first', async () => {
    const [first = '', second = ''] = await dumpsOf(2);
    const [other = ''] = await dumpsOf(1);
    const processes = await opsctl(['heapdiff', first, other]);
    expect(processes.code).toBe(2);
    expect(processes.stderr).toMatch(/comes from another process than .* object ids of different processes cannot be compared/);
    const order = await opsctl(['heapdiff', second, first]);
    expect(order.code).toBe(2);
    expect(order.stderr).toMatch(/was taken before .*: give the snapshots oldest first/);
    expect((await opsctl(['heapdiff', first, second])).code).toBe(0);
  });
});
