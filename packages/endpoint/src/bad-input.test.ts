import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, jsonOf, rawHttp, startEndpoint, type TestEndpoint } from '../test-support/index.js';

let ep: TestEndpoint;
beforeAll(async () => {
  ep = await startEndpoint({
    limits: {
      headersTimeoutMs: 1_000,
      requestTimeoutMs: 2_000,
      maxHeaderBytes: 4096,
      maxConnections: 8,
      maxUnauthenticatedConnections: 8,
      maxUnauthenticatedPerAddress: 8,
      authFailuresAllowed: 1000,
    },
  });
});
afterAll(() => ep.close());

const request = (lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;

async function stillAnswers() {
  const res = await fetch(`${ep.url}/info`, { headers: bearer(ep.tokens['reader']) });
  expect(res.status).toBe(200);
}

describe('bad input never crashes the endpoint or earns a 500', () => {
  it('refuses two Authorization headers with 400 AUTH_MALFORMED, even if one is valid', async () => {
    const res = await rawHttp(ep.port, [
      request([
        'GET /info HTTP/1.1',
        'Host: x',
        `Authorization: Bearer ${ep.tokens['admin']}`,
        `Authorization: Bearer ${ep.tokens['admin']}`,
        'Connection: close',
      ]),
    ]);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error.code).toBe('AUTH_MALFORMED');
    await stillAnswers();
  });

  it('refuses malformed Authorization values', async () => {
    for (const value of ['Bearer', 'Bearer  ', `Bearer ${ep.tokens['admin']} extra`, 'token abc', `Bearer:${ep.tokens['admin']}`]) {
      const res = await fetch(`${ep.url}/info`, { headers: { authorization: value } });
      expect([400, 401], value).toContain(res.status);
      expect((await jsonOf(res)).error.code, value).toMatch(/^AUTH_(MALFORMED|INVALID)$/);
    }
  });

  it('answers oversized headers with 431 and a JSON error', async () => {
    const res = await rawHttp(ep.port, [request(['GET /info HTTP/1.1', 'Host: x', `X-Big: ${'a'.repeat(8000)}`])]);
    expect(res.status).toBe(431);
    expect(JSON.parse(res.body).error.code).toBe('HEADERS_TOO_LARGE');
    await stillAnswers();
  });

  it('answers garbage instead of HTTP with 400 and a JSON error', async () => {
    const res = await rawHttp(ep.port, ['\x16\x03\x01 not http at all\r\n\r\n']);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error.code).toBe('BAD_REQUEST');
  });

  it('cuts off a client that sends its headers byte by byte and stalls (slowloris) with 408', async () => {
    const started = Date.now();
    const res = await rawHttp(ep.port, ['GET /info HTTP/1.1\r\n', 'Ho', 's', 't: x\r\n'], 100);
    expect(res.status).toBe(408);
    expect(JSON.parse(res.body).error.code).toBe('REQUEST_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(5_000);
    await stillAnswers();
  });

  it('does not read an unauthenticated body, and closes that connection after refusing', async () => {
    const res = await rawHttp(ep.port, [request(['POST /info HTTP/1.1', 'Host: x', 'Content-Length: 100000000']), 'x'.repeat(1000)]);
    expect(res.status).toBe(401);
    expect(res.headers['connection']).toBe('close');
  });

  it('closes connections that never send a request, so idle sockets cannot lock operators out', async () => {
    const idle = await Promise.all(
      Array.from(
        { length: 8 },
        () =>
          new Promise<import('node:net').Socket>((resolve) => {
            const socket = connect(ep.port, '127.0.0.1', () => resolve(socket));
            socket.on('error', () => {});
          }),
      ),
    );
    const closed = Promise.all(idle.map((socket) => new Promise((resolve) => socket.once('close', resolve))));
    const started = Date.now();
    await closed;
    expect(Date.now() - started).toBeLessThan(3_000);
    await stillAnswers();
  });

  it('answers an over-limit chunked body with 413 and keeps the application alive', async () => {
    const open = await startEndpoint({ repl: {}, limits: { maxBodyBytes: 1024 } }, { operator: ['repl'] });
    try {
      const chunk = `{"code":"${'x'.repeat(4000)}`;
      const res = await rawHttp(open.port, [
        `POST /eval HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${open.tokens['operator']}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
        `${chunk.length.toString(16)}\r\n${chunk}\r\n`,
        `${chunk.length.toString(16)}\r\n${chunk}\r\n`,
      ]);
      expect(res.status).toBe(413);
      expect(JSON.parse(res.body).error.code).toBe('BODY_TOO_LARGE');
      await new Promise((r) => setTimeout(r, 100));
      expect((await fetch(`${open.url}/info`, { headers: bearer(open.tokens['operator']) })).status).toBe(200);
      expect(open.events.find((e) => e.route === '/eval')?.status).toBe(413);
    } finally {
      await open.close();
    }
  });

  it('holds no more than maxUnauthenticatedConnections idle sockets and keeps answering after the excess is dropped', async () => {
    const sockets = await Promise.all(
      Array.from(
        { length: 20 },
        () =>
          new Promise<import('node:net').Socket>((resolve) => {
            const socket = connect(ep.port, '127.0.0.1', () => resolve(socket));
            socket.on('error', () => {});
          }),
      ),
    );
    await new Promise((r) => setTimeout(r, 200));
    const dropped = sockets.filter((s) => s.destroyed || s.readableEnded).length;
    expect(dropped).toBeGreaterThanOrEqual(12);
    for (const socket of sockets) socket.destroy();
    await new Promise((r) => setTimeout(r, 50));
    await stillAnswers();
  });
});
