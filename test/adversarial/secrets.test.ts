// What a token lets its holder read must stay within its scope: a `heap` token downloads
// snapshots, and a snapshot must not hand it an admin's token; a `profile` token reads
// the diagnostic report, and the report must not hand it the application's passwords.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readUntil, waitFor } from '../../packages/endpoint/test-support/index.js';
import { mintToken, opsctl, opsctlBin, startApp, type RunningApp } from '../support/processes.js';
import { upgradeRepl } from '../support/sockets.js';

const targetApp = new URL('../fixtures/target-app.mjs', import.meta.url).pathname;

let admin: { token: string; line: string };
let heap: { token: string; line: string };
let profile: { token: string; line: string };
let app: RunningApp;
let dir: string;

beforeAll(async () => {
  [admin, heap, profile] = await Promise.all([mintToken('admin', 'admin'), mintToken('snapshotter', 'heap'), mintToken('profiler', 'profile')]);
  dir = mkdtempSync(join(tmpdir(), 'opsctl-secrets-'));
  app = await startApp(
    targetApp,
    { OPSCTL_TOKENS: [admin.line, heap.line, profile.line].join(';'), REPL: '1' },
    [],
    ['--db', 'postgres://shop:hunter2@db.internal/shop', '--jwt', 'eyJhbGciOi.secretpart.sig', '--auth=s3cr3t-auth'],
  );
});
afterAll(async () => {
  await app?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a heap snapshot taken while an admin is connected', () => {
  it("holds neither the admin's token (a live leak stream and a REPL session) nor the snapshotter's own", async () => {
    const watch = spawn(process.execPath, [opsctlBin, 'leaks', '--watch'], {
      env: { PATH: process.env['PATH'], HOME: dir, OPSCTL_URL: app.ops, OPSCTL_TOKEN: admin.token },
      stdio: 'ignore',
    });
    const session = await upgradeRepl(app.ops, { authorization: `Bearer ${admin.token}` });
    if (!('socket' in session)) throw new Error(`upgrade refused: ${JSON.stringify(session)}`);
    try {
      await readUntil(session.socket, /> $/);
      const watchers = async () =>
        (await fetch(`${app.ops}/leaks`, { headers: { authorization: `Bearer ${admin.token}` } }).then((res) => res.json() as Promise<{ watchers: number }>))
          .watchers;
      await waitFor(async () => (await watchers()) >= 1, 10_000);
      const file = join(dir, 'during.heapsnapshot');
      const run = await opsctl(['heapdump', '--out', file], { env: { HOME: dir, OPSCTL_URL: app.ops, OPSCTL_TOKEN: heap.token } });
      expect(run.code, run.stderr).toBe(0);
      const snapshot = readFileSync(file, 'latin1');
      expect(snapshot.length).toBeGreaterThan(1_000_000);
      // The random part of each token: no copy of it, whole or as the Authorization value.
      expect(snapshot.includes(admin.token.slice(7))).toBe(false);
      expect(snapshot.includes(heap.token.slice(7))).toBe(false);
    } finally {
      session.socket.destroy();
      watch.kill('SIGINT');
    }
  });
});

describe('the diagnostic report', () => {
  it('hides URL passwords and secret-looking flags from a profile token', async () => {
    const res = await fetch(`${app.ops}/report`, { headers: { authorization: `Bearer ${profile.token}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('secretpart');
    expect(text).not.toContain('s3cr3t-auth');
    expect(text).toContain('postgres://[redacted by opsctl]@db.internal/shop');
  });
});
