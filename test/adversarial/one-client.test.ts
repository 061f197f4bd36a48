// What one client can hold of the endpoint, whatever its token: a few connections of
// its own, one request at a time on each, an answer only while it reads it; and what a
// caller without a token learns and keeps on a public route. Real app processes, raw
// sockets on loopback, bounded in count and time.
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, startApp, type RunningApp } from '../support/processes.js';
import { auditEvents, closedByServer, openRaw } from '../support/sockets.js';
import { waitFor } from '../../packages/endpoint/test-support/index.js';

const targetApp = new URL('../fixtures/target-app.mjs', import.meta.url).pathname;

let admin: { token: string; line: string };
let other: { token: string; line: string };
let app: RunningApp;
let port: number;
const held: Socket[] = [];

beforeAll(async () => {
  admin = await mintToken('admin', 'admin');
  other = await mintToken('other', 'read');
  app = await startApp(targetApp, {
    OPSCTL_TOKENS: `${admin.line}\n${other.line}`,
    PUBLIC_HEALTH: '1',
    REPL: '1',
    HEAP_MB: '30',
    LIMITS: JSON.stringify({ keepAliveTimeoutMs: 60_000, sendStallMs: 1_000 }),
  });
  port = Number(new URL(app.ops).port);
});
afterAll(async () => {
  for (const socket of held) socket.destroy();
  await app?.stop();
});

/** Raw bytes of a request; `token` null sends none. */
function request(method: string, path: string, token: string | null, extra = ''): string {
  return `${method} ${path} HTTP/1.1\r\nHost: x\r\n${token === null ? '' : `Authorization: Bearer ${token}\r\n`}${extra}\r\n`;
}

/** Everything the server sends on `socket` until `pattern` matches it. */
function readUntil(socket: Socket, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`never saw ${pattern} in:\n${text}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (!pattern.test(text)) return;
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(text);
    };
    socket.on('data', onData);
  });
}

async function open(bytes: string): Promise<Socket> {
  const socket = await openRaw(port, bytes);
  held.push(socket);
  return socket;
}

describe('one token holds a bounded share of the connections', () => {
  it('refuses the 17th connection of one token with 503 naming the limit, while another token still gets in', async () => {
    const sixteen = await Promise.all(Array.from({ length: 16 }, () => open(request('GET', '/info', admin.token))));
    await Promise.all(sixteen.map((socket) => readUntil(socket, /^HTTP\/1\.1 200[\s\S]*\r\n\r\n\{[\s\S]*\}$/)));
    const seventeenth = await open(request('GET', '/info', admin.token));
    const refused = await readUntil(seventeenth, /\}$/);
    expect(refused).toMatch(/^HTTP\/1\.1 503/);
    expect(refused).toContain('"code":"TOO_MANY_CONNECTIONS"');
    expect(refused).toContain('The token \\"admin\\" already holds 16 connections');
    expect(await closedByServer(seventeenth, 3_000)).toBeLessThan(2_000);

    const res = await fetch(`${app.ops}/info`, { headers: { authorization: `Bearer ${other.token}`, connection: 'close' } });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    for (const socket of sixteen) socket.destroy();
    // Once they are gone, the token has its share back.
    await waitFor(
      async () =>
        (await fetch(`${app.ops}/info`, { headers: { authorization: `Bearer ${admin.token}`, connection: 'close' } }).then((r) =>
          r.arrayBuffer().then(() => r.status),
        )) === 200,
      5_000,
    );
  });
});

describe('one request at a time on a connection', () => {
  it('answers the first of pipelined requests, refuses the next with 400 and closes, running one report only', async () => {
    const reportsBefore = auditEvents(app.stderr()).filter((e) => e.route === '/report' && e.kind === 'request').length;
    const socket = await open(Array.from({ length: 5 }, () => request('GET', '/report', admin.token)).join(''));
    const answers = await readUntil(socket, /HTTP\/1\.1 400[\s\S]*\}$/, 15_000);
    expect(answers).toMatch(/^HTTP\/1\.1 200/);
    expect(answers).toContain('send one request at a time');
    expect(answers.match(/HTTP\/1\.1 \d{3} [A-Z]/g)).toHaveLength(2);
    await closedByServer(socket, 3_000);
    await waitFor(() => auditEvents(app.stderr()).some((e) => e.detail?.['reason'] === 'pipelined'), 5_000);
    const reports = () => auditEvents(app.stderr()).filter((e) => e.route === '/report' && e.kind === 'request').length - reportsBefore;
    await waitFor(() => reports() > 0, 5_000);
    expect(reports()).toBe(1);
  });
});

describe('an answer only while its client reads it', () => {
  it('cuts off a heap snapshot its client stopped reading, and the next snapshot may start', async () => {
    const socket = await open(request('GET', '/heapdump', admin.token));
    socket.pause(); // reads nothing: the kernel's buffers fill, then the endpoint's
    // The endpoint gives up its side (the client, reading nothing, cannot see that yet):
    // its audit says the answer was cut off. The snapshot takes a few seconds here; the
    // stall limit is 1 s.
    await waitFor(() => auditEvents(app.stderr()).some((e) => e.route === '/heapdump' && e.kind === 'request' && e.detail?.['aborted'] === true), 25_000);
    const ask = () => fetch(`${app.ops}/heapdump`, { headers: { authorization: `Bearer ${admin.token}` } });
    let next = await ask();
    if (next.status === 429) {
      // Not the gate: only the pacing after the first snapshot's pause
      // (packages/endpoint/src/diagnostics/snapshot-preflight.ts), which says how long to wait.
      const { error } = (await next.json()) as { error: { message: string; details: { retryInMs: number } } };
      expect(error.message).toMatch(/^The previous heap snapshot paused the application for/);
      await new Promise((resolve) => setTimeout(resolve, error.details.retryInMs));
      next = await ask();
    }
    expect(next.status).toBe(200);
    expect((await next.arrayBuffer()).byteLength).toBeGreaterThan(1_000_000);
  });
});

describe('a caller without a token on a public route', () => {
  it('gets 405 for another method, without the instance header, and its connection closed', async () => {
    const socket = await open(request('POST', '/health', null, 'Content-Length: 0\r\n'));
    const answer = await readUntil(socket, /\}$/);
    expect(answer).toMatch(/^HTTP\/1\.1 405/);
    expect(answer.toLowerCase()).not.toContain('opsctl-instance');
    expect(await closedByServer(socket, 3_000)).toBeLessThan(2_000);
    const health = await fetch(`${app.ops}/health`);
    expect(health.status).toBe(200);
    await health.arrayBuffer();
  });
});

describe('Expect headers', () => {
  it('sends no "100 Continue" to a caller without a token: it is refused before its body is invited', async () => {
    const socket = await open(`POST /actions/x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n`);
    const answer = await readUntil(socket, /\}$/);
    expect(answer).toMatch(/^HTTP\/1\.1 401/);
    expect(answer).not.toContain('100 Continue');
  });

  it('sends "100 Continue" to an authenticated caller with a body, then answers', async () => {
    const body = '{"code":"6*7"}';
    const socket = await open(
      request('POST', '/eval', admin.token, `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n`),
    );
    expect(await readUntil(socket, /100 Continue\r\n\r\n/)).toMatch(/^HTTP\/1\.1 100 Continue/);
    socket.write(body);
    expect(await readUntil(socket, /\}$/)).toMatch(/HTTP\/1\.1 200[\s\S]*"result":"42"/);
  });

  it('answers any other expectation with 417, audited', async () => {
    const socket = await open(request('GET', '/info', admin.token, 'Expect: teapot\r\n'));
    expect(await readUntil(socket, /\}$/)).toMatch(/^HTTP\/1\.1 417[\s\S]*EXPECTATION_FAILED/);
    await waitFor(() => auditEvents(app.stderr()).some((e) => e.code === 'EXPECTATION_FAILED' && e.token === 'admin'), 5_000);
  });
});
