// Nothing the endpoint runs outside a request, and nothing in its configuration, may take
// the application down: the leak monitor when descriptors run out, the preload when the
// application wants the endpoint's port, a TLS variable set but empty, a token pasted in
// the wrong place. Real app processes with the preload or the library.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, mintToken, opsctl, repoRoot, startApp } from '../support/processes.js';

const targetApp = new URL('../fixtures/target-app.mjs', import.meta.url).pathname;
const preloadApp = join(repoRoot, 'examples/preload/app.js');
const preload = ['--import', '@opsctl/endpoint/register'];

let admin: { token: string; line: string };
let dir: string;
beforeAll(async () => {
  admin = await mintToken('admin', 'admin');
  dir = mkdtempSync(join(tmpdir(), 'opsctl-safety-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the leak monitor', () => {
  it("samples memory when the process is out of file descriptors, from V8's statistics, and the process goes on", async () => {
    const app = await startApp(targetApp, { OPSCTL_TOKENS: admin.line }, ['--expose-gc']);
    try {
      execFileSync('prlimit', ['--pid', String(app.pid), '--nofile=256:256']);
      const answer = await fetch(`${app.app}/emfile-gc`).then((res) => res.text());
      expect(answer).toMatch(/^EMFILE after \d+ descriptors/);
      await fetch(`${app.app}/emfile-gc`).then((res) => res.text());
      expect(app.child.exitCode).toBeNull();
      const leaks = await opsctl(['leaks', '--json'], { env: { OPSCTL_URL: app.ops, OPSCTL_TOKEN: admin.token } });
      expect(leaks.code, leaks.stderr).not.toBe(4);
      const status = JSON.parse(leaks.stdout) as { verdict: unknown; samples: { rss: number; heapUsed: number }[] };
      expect(status).toHaveProperty('verdict');
      // The GCs run with no descriptor free were sampled: heap figures from V8, RSS (read
      // from /proc) unknown, shown as 0 and never judged.
      expect(status.samples.some((sample) => sample.rss === 0 && sample.heapUsed > 0)).toBe(true);
      expect(app.stderr()).not.toMatch(/uv_resident_set_memory|EMFILE/);
    } finally {
      await app.stop();
    }
  });
});

describe('the preload', () => {
  it('gives its port up to an application that listens on it, in one line, and the application starts', async () => {
    const port = await freePort();
    const app = await startApp(preloadApp, { OPSCTL_TOKENS: admin.line, OPSCTL_PORT: String(port), PORT: String(port) }, preload);
    try {
      expect(app.app).toBe(`http://127.0.0.1:${port}`);
      expect(await fetch(app.app).then((res) => res.text())).toBe('hello\n');
      const lines = app
        .stderr()
        .split('\n')
        .filter((line) => line.startsWith('opsctl:'));
      expect(lines).toEqual([
        `opsctl: maintenance endpoint listening on http://127.0.0.1:${port}`,
        expect.stringMatching(
          new RegExp(`^opsctl: the application is starting a server on port ${port}, where the maintenance endpoint listened; the endpoint stopped listening`),
        ),
      ]);
    } finally {
      await app.stop();
    }
  });

  it('refuses TLS variables that are set but empty, or name empty files, and the application runs without the endpoint', async () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    const empty = join(dir, 'empty.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], {
      stdio: 'ignore',
    });
    writeFileSync(empty, '');
    const cases: [Record<string, string>, RegExp][] = [
      [{ OPSCTL_TLS_CERT: cert, OPSCTL_TLS_KEY: key, OPSCTL_TLS_CLIENT_CA: '' }, /OPSCTL_TLS_CLIENT_CA is set but empty/],
      [{ OPSCTL_TLS_CERT: cert, OPSCTL_TLS_KEY: key, OPSCTL_TLS_CLIENT_CA: empty }, /OPSCTL_TLS_CLIENT_CA=.+ is an empty file/],
      [{ OPSCTL_TLS_CERT: empty, OPSCTL_TLS_KEY: key }, /OPSCTL_TLS_CERT=.+ is an empty file/],
      [{ OPSCTL_TLS_CERT: '', OPSCTL_TLS_KEY: '' }, /OPSCTL_TLS_CERT is set but empty/],
    ];
    for (const [env, problem] of cases) {
      const app = await startApp(preloadApp, { OPSCTL_TOKENS: admin.line, OPSCTL_PORT: '0', ...env }, preload);
      try {
        expect(await fetch(app.app).then((res) => res.text())).toBe('hello\n');
        expect(app.stderr()).toMatch(problem);
        expect(app.stderr()).toMatch(/opsctl: the application runs without its maintenance endpoint\./);
        expect(app.stderr()).not.toMatch(/listening on http:/);
      } finally {
        await app.stop();
      }
    }
  });

  it('refuses ports that are not plain decimal', async () => {
    for (const value of ['0x9a20', ' 39520 ', '1e3', '39520.0']) {
      const app = await startApp(preloadApp, { OPSCTL_TOKENS: admin.line, OPSCTL_PORT: value }, preload);
      try {
        expect(app.stderr()).toMatch(/OPSCTL_PORT must be a whole number in decimal digits/);
        expect(app.stderr()).not.toMatch(/listening on/);
      } finally {
        await app.stop();
      }
    }
  });

  it('never echoes a token pasted into OPSCTL_TOKENS, and says to revoke it', async () => {
    for (const tokens of [`alice=${admin.token}`, admin.token, `alice:${admin.token}:admin`]) {
      const app = await startApp(preloadApp, { OPSCTL_TOKENS: tokens, OPSCTL_PORT: '0' }, preload);
      try {
        expect(app.stderr()).not.toContain(admin.token.slice(7));
        expect(app.stderr()).toMatch(/revoke it/);
      } finally {
        await app.stop();
      }
    }
  });
});
