import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf } from '../test-support/index.js';
import { createMaintenanceEndpoint } from './index.js';
import { generateToken, hashToken } from './tokens.js';

const token = generateToken();
const ops = createMaintenanceEndpoint({ tokens: [{ name: 'sre', sha256: hashToken(token), scopes: ['read'] }], basePath: '/ops', audit: false });
let server: Server;
let base: string;

beforeAll(async () => {
  // A plain node:http application that routes /ops/* to the endpoint and keeps its own routes.
  server = createServer((req, res) => {
    if (req.url?.startsWith('/ops/')) return ops.handler(req, res);
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`app says hi to ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await ops.close();
  await new Promise((resolve) => server.close(resolve));
});

describe('handler mounted in an application server', () => {
  it('serves the endpoint under its base path', async () => {
    const res = await fetch(`${base}/ops/info`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect((await jsonOf(res)).caller.token).toBe('sre');
    expect((await fetch(`${base}/ops/info`)).status).toBe(401);
  });

  it('leaves the application routes alone', async () => {
    const res = await fetch(`${base}/orders?id=1`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('app says hi to /orders?id=1');
  });

  it('keeps both working after close() of the endpoint, which refuses with 503', async () => {
    const ep = createMaintenanceEndpoint({ tokens: [{ name: 'x', sha256: hashToken(token), scopes: ['read'] }], audit: false });
    const app = createServer((req, res) => (req.url?.startsWith('/info') ? ep.handler(req, res) : res.end('app')));
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    await ep.close();
    const refused = await fetch(`${url}/info`, { headers: { authorization: `Bearer ${token}` } });
    expect(refused.status).toBe(503);
    expect((await jsonOf(refused)).error.code).toBe('SHUTTING_DOWN');
    expect(await (await fetch(`${url}/`)).text()).toBe('app');
    await new Promise((resolve) => app.close(resolve));
  });
});
