import { request } from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { audited, bearer, jsonOf, readUntil, startEndpoint, type TestEndpoint } from '../../test-support/index.js';
import { REPL_PROTOCOL } from '../protocol/index.js';

const exposed = { orders: new Map([[1, { id: 1, item: 'teapot' }]]), greet: (name: string) => `hello ${name}` };
let ep: TestEndpoint;
beforeAll(async () => {
  ep = await startEndpoint({ repl: { context: exposed, evalTimeoutMs: 300, maxSessions: 1 } }, { reader: ['read'], operator: ['repl'] });
});
afterAll(() => ep.close());

async function evaluate(code: unknown, token = ep.tokens['operator'], extra: Record<string, unknown> = {}) {
  const res = await fetch(`${ep.url}/eval`, {
    method: 'POST',
    headers: { ...bearer(token), 'content-type': 'application/json' },
    body: JSON.stringify({ code, ...extra }),
  });
  return { status: res.status, body: await jsonOf(res) };
}

describe('POST /eval', () => {
  it('evaluates with the exposed objects and returns the inspected result and console output', async () => {
    const { status, body } = await evaluate('console.log(greet("ops")); orders.get(1)');
    expect(status).toBe(200);
    expect(body).toMatchObject({ ok: true, result: "{ id: 1, item: 'teapot' }", type: 'object', output: 'hello ops\n' });
  });

  it('supports top-level await, keeping the last value', async () => {
    expect((await evaluate('const n = await Promise.resolve(20); n + 1')).body).toMatchObject({ ok: true, result: '21' });
  });

  it('returns a thrown error as a JSON answer, and the app goes on', async () => {
    const { status, body } = await evaluate('throw new RangeError("nope")');
    expect(status).toBe(200);
    expect(body).toMatchObject({ ok: false, timedOut: false, error: { name: 'RangeError', message: 'nope' } });
  });

  it('stops an infinite loop after the time limit, and the endpoint answers right after', async () => {
    const started = Date.now();
    const { body } = await evaluate('while (true) {}');
    expect(body).toMatchObject({ ok: false, timedOut: true });
    expect(Date.now() - started).toBeLessThan(3_000);
    const info = await fetch(`${ep.url}/info`, { headers: bearer(ep.tokens['reader']) });
    expect(info.status).toBe(200);
  });

  it('stops waiting for a promise that never settles', async () => {
    expect((await evaluate('new Promise(() => {})')).body).toMatchObject({ ok: false, timedOut: true });
    expect((await evaluate('await new Promise(() => {})')).body).toMatchObject({ ok: false, timedOut: true });
  });

  it('audits the code with the token name', async () => {
    await evaluate('1 + 1');
    expect(await audited(ep, (e) => e.route === '/eval' && e.detail?.['code'] === '1 + 1')).toMatchObject({
      token: 'operator',
      status: 200,
      detail: { code: '1 + 1', outcome: 'ok' },
    });
  });

  it('refuses bad bodies with 400, 413 and 415', async () => {
    expect((await evaluate('')).body.error.code).toBe('BAD_PARAM');
    expect((await evaluate(42)).body.error.code).toBe('BAD_PARAM');
    expect((await evaluate('1', ep.tokens['operator'], { timeoutMs: 10 ** 9 })).body.error.code).toBe('BAD_PARAM');
    const big = await fetch(`${ep.url}/eval`, {
      method: 'POST',
      headers: { ...bearer(ep.tokens['operator']), 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'x'.repeat(100_000) }),
    });
    expect(big.status).toBe(413);
    const text = await fetch(`${ep.url}/eval`, { method: 'POST', headers: { ...bearer(ep.tokens['operator']), 'content-type': 'text/plain' }, body: '1' });
    expect(text.status).toBe(415);
    const broken = await fetch(`${ep.url}/eval`, {
      method: 'POST',
      headers: { ...bearer(ep.tokens['operator']), 'content-type': 'application/json' },
      body: '{"code":',
    });
    expect(broken.status).toBe(400);
    expect((await jsonOf(broken)).error.code).toBe('BAD_BODY');
  });

  it("takes a shorter timeoutMs than the application's and refuses a longer one with 400 BAD_PARAM naming the maximum", async () => {
    const shorter = await evaluate('while (true) {}', ep.tokens['operator'], { timeoutMs: 50 });
    expect(shorter.body).toMatchObject({ ok: false, timedOut: true, error: { message: expect.stringMatching(/after 50ms/) } });
    expect((await evaluate('1 + 1', ep.tokens['operator'], { timeoutMs: 300 })).body).toMatchObject({ ok: true, result: '2' });
    for (const timeoutMs of [301, 60_000]) {
      const longer = await evaluate('1 + 1', ep.tokens['operator'], { timeoutMs });
      expect(longer).toMatchObject({ status: 400, body: { error: { code: 'BAD_PARAM', details: { param: 'timeoutMs', max: 300 } } } });
      expect(longer.body.error.message).toMatch(/timeoutMs.*300/);
    }
    expect((await evaluate('1', ep.tokens['operator'], { timeoutMs: 0 })).body.error.code).toBe('BAD_PARAM');
    expect((await evaluate('1', ep.tokens['operator'], { timeoutMs: '100' })).body.error.code).toBe('BAD_PARAM');
  });

  it('refuses a token without the repl scope', async () => {
    expect((await evaluate('1', ep.tokens['reader'])).status).toBe(403);
  });
});

/** Opens an upgrade; resolves with the socket on 101, or the status and JSON body of a refusal. */
function upgrade(url: string, headers: Record<string, string>): Promise<{ socket: Socket } | { status: number; body: { error: { code: string } } }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/repl`, { headers: { connection: 'Upgrade', upgrade: REPL_PROTOCOL, ...headers } });
    req.on('upgrade', (_res, socket: Socket, head: Buffer) => {
      if (head.length > 0) socket.unshift(head);
      resolve({ socket });
    });
    req.on('response', (res) => {
      let text = '';
      res
        .setEncoding('utf8')
        .on('data', (c: string) => (text += c))
        .on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('REPL sessions over HTTP Upgrade', () => {
  it('refuses before upgrading: no token 401, no repl scope 403', async () => {
    expect(await upgrade(ep.url, {})).toMatchObject({ status: 401, body: { error: { code: 'AUTH_REQUIRED' } } });
    expect(await upgrade(ep.url, bearer(ep.tokens['reader']))).toMatchObject({ status: 403, body: { error: { code: 'SCOPE_MISSING' } } });
  });

  it('refuses when the application has not enabled the REPL', async () => {
    const off = await startEndpoint({}, { operator: ['repl'] });
    try {
      expect(await upgrade(off.url, bearer(off.tokens['operator']))).toMatchObject({ status: 404, body: { error: { code: 'FEATURE_DISABLED' } } });
      expect((await fetch(`${off.url}/info`, { headers: bearer(off.tokens['operator']) }).then(jsonOf)).capabilities).not.toContain('repl');
    } finally {
      await off.close();
    }
  });

  it('evaluates lines, bounds loops, audits each line, refuses a session over the limit, and ends on .exit', async () => {
    const opened = await upgrade(ep.url, { ...bearer(ep.tokens['operator']), 'opsctl-terminal': 'tty=0' });
    if (!('socket' in opened)) throw new Error(`upgrade refused: ${JSON.stringify(opened)}`);
    const { socket } = opened;
    await readUntil(socket, /> $/);
    socket.write('greet("repl")\n');
    expect(await readUntil(socket, /> $/)).toContain("'hello repl'");
    socket.write('while (true) {}\n');
    expect(await readUntil(socket, /> $/)).toMatch(/timed out after 300ms; the process goes on/);

    expect(await upgrade(ep.url, bearer(ep.tokens['operator']))).toMatchObject({ status: 429, body: { error: { code: 'BUSY' } } });

    const lines = ep.events.filter((e) => e.kind === 'repl').map((e) => [e.token, e.detail?.['code'], e.detail?.['outcome']]);
    expect(lines).toEqual([
      ['operator', 'greet("repl")', 'ok'],
      ['operator', 'while (true) {}', 'timeout'],
    ]);

    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write('.exit\n');
    await closed;
    await new Promise((r) => setTimeout(r, 50));
    const session = await audited(ep, (e) => e.route === '/repl' && e.kind === 'request' && e.status === 101);
    expect(session).toMatchObject({ status: 101, token: 'operator', detail: { lines: 2 } });
  });

  it('ends open sessions when the endpoint closes', async () => {
    const own = await startEndpoint({ repl: {} }, { operator: ['repl'] });
    const opened = await upgrade(own.url, bearer(own.tokens['operator']));
    if (!('socket' in opened)) throw new Error('upgrade refused');
    await readUntil(opened.socket, /> $/);
    const closed = new Promise((resolve) => opened.socket.once('close', resolve));
    await own.close();
    await closed;
  });
});

describe('a REPL session that fails to start', () => {
  // repl/load.test.ts covers node:repl refusing to load, in a process of its own.
  it('destroys the socket and audits the error, with nothing unhandled', async () => {
    const own = await startEndpoint({ repl: {} }, { operator: ['repl'] });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    vi.doMock('node:repl', () => ({
      Recoverable: class {},
      start: () => {
        throw new Error('no REPL today');
      },
    }));
    try {
      const opened = await upgrade(own.url, bearer(own.tokens['operator']));
      if (!('socket' in opened)) throw new Error(`upgrade refused: ${JSON.stringify(opened)}`);
      if (!opened.socket.destroyed) await new Promise((resolve) => opened.socket.once('close', resolve));
      await new Promise((r) => setTimeout(r, 50));
      expect(await audited(own, (e) => e.kind === 'request' && e.path === '/repl')).toMatchObject({ status: 101, detail: { error: 'no REPL today' } });
      expect(unhandled).toEqual([]);
      expect((await fetch(`${own.url}/repl`, { headers: bearer(own.tokens['operator']) })).status).toBe(200);
    } finally {
      vi.doUnmock('node:repl');
      process.off('unhandledRejection', onUnhandled);
      await own.close();
    }
  });
});
