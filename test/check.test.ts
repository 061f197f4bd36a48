// opsctl check, the CI smoke test, against a good endpoint and deliberately broken set-ups.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificates, type TestCertificates } from '../packages/endpoint/test-support/certificates.js';
import { exampleApp, freePort, mintToken, opsctl, startApp, type RunningApp } from './support/processes.js';

const work = mkdtempSync(join(tmpdir(), 'opsctl-e2e-check-'));
let admin: { token: string; line: string };
let reader: { token: string; line: string };
let app: RunningApp;

beforeAll(async () => {
  [admin, reader] = await Promise.all([mintToken('deployer', 'admin'), mintToken('viewer', 'read')]);
  app = await startApp(exampleApp, { OPSCTL_TOKENS: `${admin.line};${reader.line}` });
});
afterAll(async () => {
  await app?.stop();
  rmSync(work, { recursive: true, force: true });
});

interface Report {
  ok: boolean;
  checks: { name: string; status: string; detail: string }[];
}
const statusOf = (report: Report) => Object.fromEntries(report.checks.map((c) => [c.name, c.status]));

/** Well-formed XML, checked by a real parser (Python's, present wherever CI runs). */
function parseXml(path: string): void {
  execFileSync('python3', ['-c', 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])', path]);
}

describe('opsctl check', () => {
  it('passes a good endpoint with every check, --heapdump included, and writes JUnit XML', async () => {
    const junit = join(work, 'good.xml');
    const run = await opsctl(['check', '--require', 'heap,repl', '--heapdump', '--junit', junit, '--json'], {
      env: { OPSCTL_URL: app.ops, OPSCTL_TOKEN: admin.token },
    });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.ok).toBe(true);
    // A process that just started has no leak verdict yet: skipped, not passed.
    expect(statusOf(report)).toEqual({
      reachable: 'pass',
      tls: 'skip',
      'anonymous-refused': 'pass',
      token: 'pass',
      'main-thread': 'pass',
      scopes: 'pass',
      leaks: 'skip',
      heapdump: 'pass',
    });
    // In the CLI's words: no routes, methods or status codes.
    expect(report.checks.find((c) => c.name === 'anonymous-refused')?.detail).toBe(
      'a caller without a token is turned away (tried: who the process is, its memory use)',
    );
    parseXml(junit);
    expect(readFileSync(junit, 'utf8')).toMatch(/<testsuite name="opsctl check" tests="8" failures="0" skipped="2"/);
  });

  it('skips the leak check while there is no verdict yet, and fails it with --require-leak-verdict', async () => {
    const fresh = await startApp(exampleApp, { OPSCTL_TOKENS: admin.line });
    try {
      const env = { OPSCTL_URL: fresh.ops, OPSCTL_TOKEN: admin.token };
      const run = await opsctl(['check'], { env });
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^- leaks +no verdict yet \(warming up: \d+ more post-GC samples? before a verdict/m);
      expect(run.stdout).not.toMatch(/✔ leaks/);
      const required = await opsctl(['check', '--require-leak-verdict', '--json'], { env });
      expect(required.code).toBe(1);
      const report = JSON.parse(required.stdout) as Report;
      expect(statusOf(report)['leaks']).toBe('fail');
      expect(report.checks.find((c) => c.name === 'leaks')?.detail).toMatch(/^no verdict yet .*--require-leak-verdict needs one$/);
      expect(required.stderr).toMatch(/^error: 1 check failed: leaks/m);
    } finally {
      await fresh.stop();
    }
  });

  it('prints a checklist for people', async () => {
    const run = await opsctl(['check'], { env: { OPSCTL_URL: app.ops, OPSCTL_TOKEN: admin.token } });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^✔ reachable .*\n- tls .*plain http\n✔ anonymous-refused/);
  });

  it('says where it wrote the JUnit report, a relative path from the working directory, at mode 0600', async () => {
    const run = await opsctl(['check', '--junit', 'report.xml'], { env: { OPSCTL_URL: app.ops, OPSCTL_TOKEN: admin.token }, cwd: work });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(`JUnit report written to ${join(work, 'report.xml')}\n`);
    expect(statSync(join(work, 'report.xml')).mode & 0o777).toBe(0o600);
    parseXml(join(work, 'report.xml'));
  });

  it('fails with exit 3 and names the check when the token lacks required scopes', async () => {
    const junit = join(work, 'scopes.xml');
    const run = await opsctl(['check', '--require', 'heap,repl', '--junit', junit], { env: { OPSCTL_URL: app.ops, OPSCTL_TOKEN: reader.token } });
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/✖ scopes +the token lacks "heap", "repl"/);
    expect(run.stderr).toMatch(/^error: 1 check failed: scopes/m);
    parseXml(junit);
    expect(readFileSync(junit, 'utf8')).toMatch(/<failure message="the token lacks &quot;heap&quot;, &quot;repl&quot;"/);
  });

  it("fails the main-thread check while the application's event loop is blocked, naming where", async () => {
    const target = await startApp(new URL('./fixtures/target-app.mjs', import.meta.url).pathname, { OPSCTL_TOKENS: admin.line });
    try {
      const blocking = fetch(`${target.app}/block?ms=6000`).then((res) => res.text());
      await new Promise((r) => setTimeout(r, 2_500));
      const run = await opsctl(['check', '--no-leak-check'], { env: { OPSCTL_URL: target.ops, OPSCTL_TOKEN: admin.token } });
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/✖ main-thread +the event loop has been blocked for \d+\.\d s in parseHugeReport \(target-app\.mjs:\d+\); run: opsctl stack/);
      expect(run.stderr).toMatch(/^error: 1 check failed: main-thread/m);
      await blocking;
    } finally {
      await target.stop();
    }
  });

  it('fails with exit 4 when the endpoint is unreachable, skipping what depends on it', async () => {
    const run = await opsctl(['check', '--json'], { env: { OPSCTL_URL: `http://127.0.0.1:${await freePort()}`, OPSCTL_TOKEN: admin.token } });
    expect(run.code).toBe(4);
    expect(statusOf(JSON.parse(run.stdout))).toMatchObject({ reachable: 'fail', 'anonymous-refused': 'skip', token: 'skip' });
  });

  it('fails when something in front of the endpoint answers anonymous callers', async () => {
    // A reverse proxy that adds a token to every request: a misconfiguration that opens the endpoint to anyone.
    const target = new URL(app.ops);
    const proxy: Server = createServer((req, res) => {
      const upstream = request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, authorization: `Bearer ${admin.token}` } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const run = await opsctl(['check', '--json'], {
        env: { OPSCTL_URL: `http://127.0.0.1:${(proxy.address() as { port: number }).port}`, OPSCTL_TOKEN: admin.token },
      });
      expect(run.code).toBe(1);
      const report = JSON.parse(run.stdout) as Report;
      expect(statusOf(report)['anonymous-refused']).toBe('fail');
      expect(report.checks.find((c) => c.name === 'anonymous-refused')?.detail).toMatch(/the endpoint told who the process is to a caller without a token/);
      expect(run.stderr).toMatch(/check failed: anonymous-refused/);
    } finally {
      proxy.close();
    }
  });

  describe('over TLS', () => {
    let certs: TestCertificates;
    beforeAll(() => {
      certs = makeCertificates();
    });
    afterAll(() => rmSync(certs.dir, { recursive: true, force: true }));

    async function tlsApp(cert: string): Promise<{ app: RunningApp; url: string }> {
      const dir = mkdtempSync(join(work, 'tls-'));
      writeFileSync(join(dir, 'cert.pem'), cert);
      writeFileSync(join(dir, 'key.pem'), certs.key);
      const port = await freePort();
      const preloaded = await startApp(
        fileURLToPath(new URL('../examples/preload/app.js', import.meta.url)),
        {
          OPSCTL_TOKENS: admin.line,
          OPSCTL_PORT: String(port),
          OPSCTL_TLS_CERT: join(dir, 'cert.pem'),
          OPSCTL_TLS_KEY: join(dir, 'key.pem'),
        },
        ['--import', '@opsctl/endpoint/register'],
      );
      return { app: preloaded, url: `https://127.0.0.1:${port}` };
    }

    it('passes a valid certificate signed by the given CA', async () => {
      const { app: secure, url } = await tlsApp(certs.cert);
      try {
        const run = await opsctl(['check', '--ca', certs.caFile, '--json'], { env: { OPSCTL_URL: url, OPSCTL_TOKEN: admin.token } });
        expect(run.code).toBe(0);
        const report = JSON.parse(run.stdout) as Report;
        expect(report.checks.find((c) => c.name === 'tls')).toMatchObject({ status: 'pass', detail: expect.stringMatching(/^valid until \d{4}-\d\d-\d\d/) });
      } finally {
        await secure.stop();
      }
    });

    it('fails an expired certificate with exit 4, naming the reason', async () => {
      const { app: expired, url } = await tlsApp(certs.expiredCert);
      try {
        const run = await opsctl(['check', '--ca', certs.caFile, '--json'], { env: { OPSCTL_URL: url, OPSCTL_TOKEN: admin.token } });
        expect(run.code).toBe(4);
        const report = JSON.parse(run.stdout) as Report;
        expect(statusOf(report)).toMatchObject({ reachable: 'fail', tls: 'fail' });
        expect(report.checks.find((c) => c.name === 'tls')?.detail).toMatch(/CERT_HAS_EXPIRED|expired/);
      } finally {
        await expired.stop();
      }
    });
  });
});
