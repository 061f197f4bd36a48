// Heavy routes refuse what they cannot do with a status and a sentence, never a 500 or a
// pile-up: a snapshot directory removed after start, evaluations past the application's
// concurrency, a capture directory others can read.
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../packages/endpoint/test-support/index.js';
import { mintToken, opsctl, repoRoot, startApp } from '../support/processes.js';

const targetApp = new URL('../fixtures/target-app.mjs', import.meta.url).pathname;

let admin: { token: string; line: string };
let dir: string;
beforeAll(async () => {
  admin = await mintToken('admin', 'admin');
  dir = mkdtempSync(join(tmpdir(), 'opsctl-refusals-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('GET /heapdump', () => {
  it('answers 503 SNAPSHOT_DIR_UNAVAILABLE with the reason when heapSnapshot.dir was removed after start', async () => {
    const snapshots = join(dir, 'snapshots');
    mkdirSync(snapshots);
    const app = await startApp(targetApp, { OPSCTL_TOKENS: admin.line, HEAP_SNAPSHOT_DIR: snapshots });
    try {
      rmSync(snapshots, { recursive: true });
      const res = await fetch(`${app.ops}/heapdump`, { headers: { authorization: `Bearer ${admin.token}` } });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: unknown }).error).toMatchObject({
        code: 'SNAPSHOT_DIR_UNAVAILABLE',
        message: expect.stringContaining('no such directory'),
      });
      const run = await opsctl(['heapdump', '--out', join(dir, 'x.heapsnapshot')], { env: { HOME: dir, OPSCTL_URL: app.ops, OPSCTL_TOKEN: admin.token } });
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(/no such directory/);
    } finally {
      await app.stop();
    }
  });
});

describe('POST /eval', () => {
  it('runs no more evaluations at once than the application allows REPL sessions, refusing the next with 429', async () => {
    const app = await startApp(targetApp, { OPSCTL_TOKENS: admin.line, REPL: '1' });
    try {
      const evaluate = () =>
        fetch(`${app.ops}/eval`, {
          method: 'POST',
          headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ code: 'await new Promise((resolve) => setTimeout(resolve, 1500)); 1' }),
        });
      const answers = await Promise.all([evaluate(), evaluate(), evaluate()]);
      expect(answers.map((res) => res.status).sort()).toEqual([200, 200, 429]);
      const refused = answers.find((res) => res.status === 429);
      expect(refused?.headers.get('retry-after')).toBe('5');
      expect(((await refused?.json()) as { error: { code: string } } | undefined)?.error.code).toBe('BUSY');
    } finally {
      await app.stop();
    }
  });
});

describe('automatic capture', () => {
  it('warns once when its directory existed with a mode that lets others list it', async () => {
    const captures = join(dir, 'captures');
    mkdirSync(captures);
    chmodSync(captures, 0o755);
    const app = await startApp(
      join(repoRoot, 'examples/preload/app.js'),
      { OPSCTL_TOKENS: admin.line, OPSCTL_PORT: '0', OPSCTL_CAPTURE_DIR: captures, OPSCTL_CAPTURE_ON_LEAK: '1' },
      ['--import', '@opsctl/endpoint/register'],
    );
    try {
      await waitFor(() => /the capture directory .+ has mode 755/.test(app.stderr()), 5_000);
      expect(app.stderr()).toMatch(/chmod 700/);
    } finally {
      await app.stop();
    }
  });
});
