import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request, upgrade } from './undici.js';

// undici's parts loaded by path must do what its index's request(url, …) and upgrade(url, …) did.
let server: Server;
let base: string;
const seen: Array<Pick<IncomingMessage, 'method' | 'url'> & { body: string }> = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk;
    });
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, body });
      res.setHeader('trailer', 'x-end').addTrailers({ 'x-end': 'yes' });
      res.end('answer');
    });
  });
  server.on('upgrade', (req, socket) => {
    seen.push({ method: req.method, url: req.url, body: '' });
    socket.end(`HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: ${req.headers.upgrade}\r\n\r\nhello`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('undici parts', () => {
  it('sends the URL path with its query, the method and the body, and reads the answer and its trailers', async () => {
    const agent = new Agent();
    try {
      const response = await request(new URL(`${base}/prefix/heapdump?worker=a%20b&x=1`), agent, { method: 'POST', body: '{"a":1}' });
      expect(response.statusCode).toBe(200);
      expect(await response.body.text()).toBe('answer');
      expect(response.trailers).toEqual({ 'x-end': 'yes' });
      expect(seen.at(-1)).toEqual({ method: 'POST', url: '/prefix/heapdump?worker=a%20b&x=1', body: '{"a":1}' });
    } finally {
      await agent.close();
    }
  });

  it('upgrades with GET and the protocol asked for', async () => {
    const agent = new Agent();
    try {
      const { socket } = await upgrade(new URL(`${base}/repl?session=1`), agent, { protocol: 'opsctl-repl' });
      const first = await new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString())));
      socket.destroy();
      expect(first).toBe('hello');
      expect(seen.at(-1)).toEqual({ method: 'GET', url: '/repl?session=1', body: '' });
    } finally {
      await agent.close();
    }
  });

  it("types the Agent without the methods undici's index would add (it is not loaded): calls go through request and upgrade", async () => {
    const agent = new Agent();
    // @ts-expect-error not on the type: undefined at run time unless something else loads undici's index
    const method: unknown = agent.request;
    expect(['undefined', 'function']).toContain(typeof method);
    expect(typeof agent.dispatch).toBe('function');
    await agent.close();
  });

  it('refuses a URL that is not http or https, as undici did', () => {
    const agent = new Agent();
    expect(() => request(new URL('file:///etc/passwd'), agent, { method: 'GET' })).toThrow(/not an http or https URL: file:/);
    return agent.close();
  });
});
