// Worker threads with the built binary: listed by opsctl status, snapshotted by
// opsctl heapdump --worker, forgotten when they exit.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHeapSnapshot, summarizeByClass } from '../packages/cli/src/heapsnapshot/index.js';
import { mintToken, opsctl, startApp, type RunningApp } from './support/processes.js';

const opsApp = fileURLToPath(new URL('./fixtures/ops-app.mjs', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'opsctl-e2e-workers-'));
let app: RunningApp;
let env: Record<string, string>;

beforeAll(async () => {
  const admin = await mintToken('sre', 'admin');
  app = await startApp(opsApp, { OPSCTL_TOKENS: admin.line, WORKER: '1' });
  env = { OPSCTL_URL: app.ops, OPSCTL_TOKEN: admin.token };
});
afterAll(async () => {
  await app?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('worker threads', () => {
  it('lists the registered worker in opsctl status', async () => {
    const run = await opsctl(['status'], { env });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^workers\s+indexer \(thread \d+\)$/m);
    const json = JSON.parse((await opsctl(['status', '--json'], { env })).stdout);
    expect(json.workers).toEqual([{ name: 'indexer', threadId: expect.any(Number) }]);
  });

  it("writes a heap snapshot of the worker with --worker, holding the worker's objects", async () => {
    const run = await opsctl(['heapdump', '--worker', 'indexer', '--out', `${work}/`, '--json'], { env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ worker: 'indexer' });
    expect(result.path).toMatch(new RegExp(`/ops-app-indexer-.+-${app.pid}-\\d{8}T\\d{6}Z\\.heapsnapshot$`));
    const summary = summarizeByClass(await parseHeapSnapshot(result.path));
    // Only the worker creates IndexEntry objects; the main thread holds just the source text.
    expect(summary.groups.find((c) => c.name === 'IndexEntry')?.count).toBe(20_000);
  });

  it('refuses an unknown worker with exit 2 and a hint', async () => {
    const run = await opsctl(['heapdump', '--worker', 'nobody', '--out', `${work}/`], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: no running worker thread is registered as "nobody"/m);
    expect(run.stderr).toMatch(/^hint: .*opsctl status$/m);
  });

  it('forgets a worker that exits', async () => {
    expect((await opsctl(['run', 'stop-indexer'], { env })).stdout).toMatch(/exit code 1/);
    const status = JSON.parse((await opsctl(['status', '--json'], { env })).stdout);
    expect(status.workers).toEqual([]);
    const before = readdirSync(work).length;
    expect((await opsctl(['heapdump', '--worker', 'indexer', '--out', `${work}/`], { env })).code).toBe(2);
    expect(readdirSync(work)).toHaveLength(before);
  });
});
