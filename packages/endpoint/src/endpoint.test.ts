import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, jsonOf, startEndpoint, type TestEndpoint } from '../test-support/index.js';
import { INSTANCE_HEADER, type InfoResponse, type MemoryResponse } from './protocol/index.js';
import { generateToken } from './tokens.js';

let ep: TestEndpoint;
beforeAll(async () => {
  ep = await startEndpoint({ app: { name: 'shop', version: '1.2.3' } });
});
afterAll(() => ep.close());

async function get(path: string, headers: Record<string, string> = {}, method = 'GET') {
  const res = await fetch(ep.url + path, { method, headers });
  const text = await res.text();
  return { res, body: text === '' ? null : JSON.parse(text) };
}

describe('authentication before routing', () => {
  it('answers an anonymous request to a real route with 401, WWW-Authenticate and the JSON error', async () => {
    const { res, body } = await get('/info');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="opsctl"/);
    expect(body.error.code).toBe('AUTH_REQUIRED');
  });

  it('answers an anonymous request to a made-up path exactly as to a real one', async () => {
    const real = await get('/memory');
    const fake = await get('/no/such/thing');
    expect(fake.res.status).toBe(401);
    expect(fake.body).toEqual(real.body);
  });

  it('answers a wrong token with 401 invalid_token', async () => {
    const { res, body } = await get('/info', bearer(generateToken()));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    expect(body.error.code).toBe('AUTH_INVALID');
  });

  it('answers a non-Bearer scheme with 400 invalid_request', async () => {
    const { res, body } = await get('/info', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` });
    expect(res.status).toBe(400);
    expect(body.error.code).toBe('AUTH_MALFORMED');
  });
});

describe('routes for an authenticated caller', () => {
  it('tells who and where the process is, and who the caller is', async () => {
    const { res, body } = await get('/info', bearer(ep.tokens['reader']));
    const info = body as InfoResponse;
    expect(res.status).toBe(200);
    expect(info.instance.pid).toBe(process.pid);
    expect(info.instance.node).toBe(process.version);
    expect(info.instance.app).toEqual({ name: 'shop', version: '1.2.3' });
    expect(info.caller).toEqual({ token: 'reader', scopes: ['read'] });
    expect(info.capabilities).toEqual(expect.arrayContaining(['health', 'info', 'memory']));
  });

  it('reports memory with heap spaces and the effective limit', async () => {
    const { body } = await get('/memory', bearer(ep.tokens['reader']));
    const memory = body as MemoryResponse;
    expect(memory.process.heapUsed).toBeGreaterThan(0);
    expect(memory.heap.heapSizeLimit).toBeGreaterThan(memory.heap.usedHeapSize);
    expect(memory.heapSpaces.map((s) => s.name)).toContain('old_space');
    expect(['cgroup-v2', 'cgroup-v1', 'system']).toContain(memory.limit.source);
    expect(memory.limit.limitBytes).toBeGreaterThan(0);
  });

  it('answers an unknown path with 404 and a known path with a wrong method with 405 and Allow', async () => {
    const missing = await get('/nope', bearer(ep.tokens['reader']));
    expect(missing.res.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
    const wrong = await get('/info', bearer(ep.tokens['reader']), 'DELETE');
    expect(wrong.res.status).toBe(405);
    expect(wrong.res.headers.get('allow')).toBe('GET');
    expect(wrong.body.error.code).toBe('METHOD_NOT_ALLOWED');
  });

  it('keeps health private unless the application makes it public', async () => {
    expect((await get('/health')).res.status).toBe(401);
    expect((await get('/health', bearer(ep.tokens['reader']))).body.status).toBe('ok');
  });

  it('puts no-store on every answer, and the instance identity on every answer to an authenticated caller', async () => {
    for (const { res } of [await get('/info', bearer(ep.tokens['reader'])), await get('/x', bearer(ep.tokens['admin']))]) {
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get(INSTANCE_HEADER)).toMatch(new RegExp(`; pid=${process.pid}; start=\\d{4}-`));
    }
  });

  it('tells an anonymous caller nothing about the process, not even its host and pid', async () => {
    for (const { res } of [await get('/info'), await get('/info', bearer(generateToken()))]) {
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get(INSTANCE_HEADER)).toBeNull();
    }
  });
});

describe('audit', () => {
  it('records requests and refusals with token name, address, route, status and duration, never the token', async () => {
    // A fresh endpoint: the first refusal of an address without a token is written in full, later ones are summarised.
    const fresh = await startEndpoint();
    try {
      await fetch(`${fresh.url}/info`, { headers: bearer(fresh.tokens['admin']) }).then((res) => res.arrayBuffer());
      await fetch(`${fresh.url}/memory`).then((res) => res.arrayBuffer());
    } finally {
      await fresh.close();
    }
    const events = [...fresh.events];
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ kind: 'request', token: 'admin', address: '127.0.0.1', method: 'GET', route: '/info', status: 200 });
    expect(events[0]?.durationMs).toBeGreaterThanOrEqual(0);
    expect(events[1]).toMatchObject({ kind: 'refusal', token: null, status: 401, code: 'AUTH_REQUIRED' });
    const serialised = JSON.stringify(events);
    for (const token of Object.values(fresh.tokens)) expect(serialised).not.toContain(token);
    expect(serialised.toLowerCase()).not.toContain('bearer');
  });
});

describe('public health', () => {
  it('answers health anonymously when the application lists it in `public`, and nothing else', async () => {
    const open = await startEndpoint({ public: ['health'] });
    try {
      expect((await fetch(`${open.url}/health`)).status).toBe(200);
      expect((await fetch(`${open.url}/info`)).status).toBe(401);
    } finally {
      await open.close();
    }
  });
});

describe('failed-authentication throttling', () => {
  it('answers 429 with Retry-After to bad tokens once an address presents too many, and audits sparingly', async () => {
    const strict = await startEndpoint({ limits: { authFailuresAllowed: 3, authBlockMs: 60_000 } });
    try {
      for (let i = 0; i < 3; i++) expect((await fetch(`${strict.url}/info`, { headers: bearer(generateToken()) })).status).toBe(401);
      for (let i = 0; i < 20; i++) {
        const res = await fetch(`${strict.url}/info`, { headers: bearer(generateToken()) });
        expect(res.status).toBe(429);
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(50);
        expect((await jsonOf(res)).error.code).toBe('THROTTLED');
      }
      const throttleEvents = strict.events.filter((e) => e.kind === 'throttle');
      expect(throttleEvents.map((e) => e.detail?.['refusedInBlock'])).toEqual([1, 10]);
      expect(strict.events.find((e) => e.code === 'AUTH_INVALID' && e.detail)?.detail).toEqual({ throttledForMs: 60_000 });
    } finally {
      await strict.close();
    }
  });

  it('still lets a valid token in from a blocked address: operators may share it behind a proxy', async () => {
    const strict = await startEndpoint({ limits: { authFailuresAllowed: 3 } });
    try {
      for (let i = 0; i < 3; i++) await fetch(`${strict.url}/info`, { headers: bearer(generateToken()) });
      expect((await fetch(`${strict.url}/info`, { headers: bearer(generateToken()) })).status).toBe(429);
      expect((await fetch(`${strict.url}/info`, { headers: bearer(strict.tokens['admin']) })).status).toBe(200);
      expect((await fetch(`${strict.url}/info`)).status).toBe(429);
    } finally {
      await strict.close();
    }
  });

  it('does not count requests without credentials towards a block', async () => {
    const strict = await startEndpoint({ limits: { authFailuresAllowed: 3 } });
    try {
      for (let i = 0; i < 20; i++) expect((await fetch(`${strict.url}/info`)).status).toBe(401);
    } finally {
      await strict.close();
    }
  });
});

describe('an audit sink that throws', () => {
  it('neither crashes the application nor refuses the caller', async () => {
    const broken = await startEndpoint({
      audit: () => {
        throw new Error('log pipeline down');
      },
    });
    try {
      expect((await fetch(`${broken.url}/info`)).status).toBe(401);
      expect((await fetch(`${broken.url}/info`, { headers: bearer(broken.tokens['reader']) })).status).toBe(200);
    } finally {
      await broken.close();
    }
  });
});

describe('close()', () => {
  it('ends within a grace period even when a REPL client keeps its side of the connection open', async () => {
    const own = await startEndpoint({ repl: {} }, { operator: ['repl'] });
    // allowHalfOpen: this client does not close its side when the server ends the session.
    const socket = connect({ port: own.port, host: '127.0.0.1', allowHalfOpen: true });
    socket.on('error', () => {});
    socket.write(`GET /repl HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${own.tokens['operator']}\r\nConnection: Upgrade\r\nUpgrade: opsctl-repl\r\n\r\n`);
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    const ended = new Promise<void>((resolve) => socket.once('end', () => resolve()));
    const started = Date.now();
    await own.close();
    await ended;
    expect(Date.now() - started).toBeLessThan(5_000);
    socket.destroy();
  });
});
