// Every example application, started as its README says, reached with the built binary.
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, mintToken, opsctl, startApp } from './support/processes.js';

const example = (path: string) => fileURLToPath(new URL(`../examples/${path}`, import.meta.url));
let admin: { token: string; line: string };
beforeAll(async () => {
  admin = await mintToken('sre', 'admin');
});

/**
 * Upgrades `url` to a REPL session as `opsctl repl` does (without a terminal), evaluates
 * `code` and leaves; resolves with the session's output, or the status of a refusal
 * (0 when the connection was dropped unanswered).
 */
function replSession(url: string, token: string, code: string): Promise<{ status: number; output: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { authorization: `Bearer ${token}`, connection: 'Upgrade', upgrade: 'opsctl-repl', 'opsctl-terminal': 'tty=0' } });
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${url}`)));
    req.on('upgrade', (res, socket: Socket, head: Buffer) => {
      let output = head.toString('utf8');
      let sent = 0;
      socket.setEncoding('utf8');
      // A prompt ends each answer: send the code after the first, .exit after the second.
      const onPrompt = () => {
        if (!/> $/.test(output)) return;
        if (sent === 0) socket.write(`${code}\n`);
        else if (sent === 1) socket.write('.exit\n');
        sent++;
      };
      socket.on('data', (chunk: string) => {
        output += chunk;
        onPrompt();
      });
      socket.on('close', () => resolve({ status: res.statusCode ?? 0, output }));
      socket.on('error', reject);
      onPrompt();
    });
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, output: '' });
    });
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? resolve({ status: 0, output: '' }) : reject(error)));
    req.end();
  });
}

describe.each([
  { name: 'plain node:http, own loopback port', script: 'plain-http/server.js', route: '/orders', appName: 'shop', exposed: 'orders.size', mounted: false },
  {
    name: 'Express, mounted under /ops',
    script: 'express/server.js',
    route: '/inventory',
    appName: 'express-shop',
    exposed: 'inventory.teapots',
    mounted: true,
  },
  {
    name: 'Fastify, in front of its router',
    script: 'fastify/server.js',
    route: '/catalogue',
    appName: 'fastify-shop',
    exposed: 'catalogue.length',
    mounted: true,
  },
])('example: $name', ({ script, route, appName, exposed, mounted }) => {
  let app: Awaited<ReturnType<typeof startApp>>;
  beforeAll(async () => {
    app = await startApp(example(script), { OPSCTL_TOKENS: admin.line });
  });
  afterAll(() => app?.stop());

  it('answers status and the REPL through the mount, and its own routes', async () => {
    const env = { OPSCTL_URL: app.ops, OPSCTL_TOKEN: admin.token };
    const status = await opsctl(['status', '--json'], { env });
    expect(status.stderr).toBe('');
    expect(JSON.parse(status.stdout)).toMatchObject({ caller: { token: 'sre' }, instance: { pid: app.pid, app: { name: appName } } });
    const evaluated = await opsctl(['repl', '-e', exposed], { env });
    expect(evaluated).toMatchObject({ code: 0 });
    expect(Number(evaluated.stdout)).toBeGreaterThan(0);
    expect((await fetch(`${app.app}${route}`)).status).toBe(200);
    expect((await fetch(`${app.ops}/info`)).status).toBe(401);
  });

  it('opens an interactive REPL session through the mount', async () => {
    const session = await replSession(`${app.ops}/repl`, admin.token, '1+1');
    expect(session.status).toBe(101);
    // Without a terminal the REPL does not echo the input: the prompt, then the answer.
    expect(session.output).toMatch(new RegExp(`^${appName}@.+\\[${app.pid}\\]> 2\\r?\\n`));
    expect(await replSession(`${app.ops}/repl`, 'not-a-token', '1')).toMatchObject({ status: 401 });
  });

  it.runIf(mounted)("opens no REPL for upgrades outside /ops: those are the application's (it has none, so they are dropped)", async () => {
    expect(await replSession(`${app.app}/repl`, admin.token, '1')).toEqual({ status: 0, output: '' });
    expect(await replSession(`${app.app}/opsrepl`, admin.token, '1')).toEqual({ status: 0, output: '' });
  });
});

describe('example: preload, an app with no opsctl code', () => {
  it('gets an endpoint from its start command and environment', async () => {
    const port = await freePort();
    const app = await startApp(
      example('preload/app.js'),
      { OPSCTL_TOKENS: admin.line, OPSCTL_PORT: String(port), OPSCTL_REPL: '1', OPSCTL_APP_NAME: 'greeter' },
      ['--import', '@opsctl/endpoint/register'],
    );
    try {
      const env = { OPSCTL_URL: `http://127.0.0.1:${port}`, OPSCTL_TOKEN: admin.token };
      const status = JSON.parse((await opsctl(['status', '--json'], { env })).stdout);
      expect(status).toMatchObject({ instance: { pid: app.pid, app: { name: 'greeter' } } });
      expect(status.capabilities).toContain('repl');
      expect((await opsctl(['repl', '-e', 'process.pid'], { env })).stdout.trim()).toBe(String(app.pid));
      expect(app.stderr()).toMatch(/opsctl: maintenance endpoint listening on http:\/\/127\.0\.0\.1:\d+/);
    } finally {
      await app.stop();
    }
  });

  it('reports bad configuration and lets the app run without the endpoint', async () => {
    const broken: Record<string, string>[] = [
      {},
      { OPSCTL_TOKENS: 'broken' },
      { OPSCTL_TOKENS: admin.line, OPSCTL_HOST: '0.0.0.0' },
      { OPSCTL_TOKENS: admin.line, OPSCTL_TLS_CERT: '/nonexistent/cert.pem', OPSCTL_TLS_KEY: '/nonexistent/key.pem' },
      { OPSCTL_TOKENS: admin.line, OPSCTL_PORT: 'ninety' },
    ];
    for (const env of broken) {
      const app = await startApp(example('preload/app.js'), { OPSCTL_PORT: '0', ...env }, ['--import', '@opsctl/endpoint/register']);
      try {
        expect(await (await fetch(app.app)).text()).toBe('hello\n');
        expect(app.stderr()).toMatch(/^opsctl endpoint: .+\n(.|\n)*opsctl: the application runs without its maintenance endpoint\.\n$/);
      } finally {
        await app.stop();
      }
    }
  });
});
