// The endpoint's own port under attack: a refusal frees its connection within a second
// whatever the client does, and connections that have not authenticated can never lock
// an operator out (sshd's MaxStartups, here: server/admission.ts). Real app processes,
// floods from a process of their own, bounded in count and time, loopback only.
import { readdirSync } from 'node:fs';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, runFlood, startApp, type RunningApp } from '../support/processes.js';
import { closedByServer, getFresh, openRaw } from '../support/sockets.js';

const targetApp = new URL('../fixtures/target-app.mjs', import.meta.url).pathname;

let admin: { token: string; line: string };
let app: RunningApp;
let port: number;
const held: Socket[] = [];

beforeAll(async () => {
  admin = await mintToken('admin', 'admin');
  app = await startApp(targetApp, { OPSCTL_TOKENS: admin.line, LIMITS: JSON.stringify({ headersTimeoutMs: 1_500, requestTimeoutMs: 3_000 }) });
  port = Number(new URL(app.ops).port);
});
afterAll(async () => {
  for (const socket of held) socket.destroy();
  await app?.stop();
});

const auth = () => ({ authorization: `Bearer ${admin.token}` });

async function hold(count: number, bytes: string): Promise<Socket[]> {
  const sockets = await Promise.all(Array.from({ length: count }, () => openRaw(port, bytes)));
  held.push(...sockets);
  return sockets;
}

/** `count` operator requests on fresh connections, one after another, during whatever runs. */
async function operatorRequests(count: number, gapMs = 50): Promise<{ status: number; ms: number; error?: string }[]> {
  const results = [];
  for (let i = 0; i < count; i++) {
    results.push(await getFresh(`${app.ops}/info`, auth()));
    await new Promise((r) => setTimeout(r, gapMs));
  }
  return results;
}

describe('a refusal frees its connection within a second, whatever the client does', () => {
  it('closes 70 connections that sent garbage and never close their side, and an operator still gets in', async () => {
    const sockets = await hold(70, '\x16\x03\x01 this is not http\r\n\r\n');
    const closedAfter = await Promise.all(sockets.map((s) => closedByServer(s, 3_000)));
    expect(Math.max(...closedAfter)).toBeLessThan(2_000);
    expect((await getFresh(`${app.ops}/info`, auth())).status).toBe(200);
  });

  it('closes the connection of an anonymous 401 at once, though the client keeps its side open', async () => {
    const sockets = await hold(70, 'GET /info HTTP/1.1\r\nHost: x\r\n\r\n');
    const closedAfter = await Promise.all(sockets.map((s) => closedByServer(s, 3_000)));
    expect(Math.max(...closedAfter)).toBeLessThan(2_000);
    expect((await getFresh(`${app.ops}/info`, auth())).status).toBe(200);
  });

  it('closes refused upgrades, on the own port and mounted in the application, where they once leaked its descriptors', async () => {
    const mounted = await startApp(targetApp, { OPSCTL_TOKENS: admin.line, MOUNT: '1', REPL: '1' });
    try {
      const mountedPort = Number(new URL(mounted.app).port);
      const descriptors = () => readdirSync(`/proc/${mounted.pid}/fd`).length;
      const before = descriptors();
      const upgrade = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: opsctl-repl\r\n\r\n`;
      const refused = [
        ...(await Promise.all(Array.from({ length: 100 }, () => openRaw(mountedPort, upgrade('/ops/repl'))))),
        ...(await Promise.all(Array.from({ length: 20 }, () => openRaw(port, upgrade('/repl'))))),
      ];
      held.push(...refused);
      const closedAfter = await Promise.all(refused.map((s) => closedByServer(s, 3_000)));
      expect(Math.max(...closedAfter)).toBeLessThan(2_000);
      await new Promise((r) => setTimeout(r, 200));
      expect(descriptors()).toBeLessThan(before + 10);
    } finally {
      await mounted.stop();
    }
  });

  it('answers slowloris clients that never read with 408 and frees them', async () => {
    const sockets = await hold(20, 'GET /info HTTP/1.1\r\nHost: x\r\n');
    for (const socket of sockets) socket.pause();
    const started = Date.now();
    await Promise.all(sockets.map((s) => closedByServer(s, 6_000)));
    // headersTimeoutMs is 1.5 s here; node checks it every second.
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('connections that have not authenticated cannot starve those that have', () => {
  it('lets every operator request in on a fresh connection while 300 silent connections are held open', async () => {
    await hold(300, '');
    const results = await operatorRequests(20);
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(3_000);
  });

  it.each([
    ['an anonymous keep-alive flood of 80 connections', 'anonymous'],
    ['a flood of 80 connections presenting a bad token', 'badtoken'],
    ['80 slowloris clients that never read', 'slowloris'],
    ['a churn of connections that connect and leave', 'connect'],
  ])('lets every operator request in during %s', async (_what, mode) => {
    const flooding = runFlood(port, mode, 80, 6_000);
    await new Promise((r) => setTimeout(r, 1_000));
    const results = await operatorRequests(30);
    const counts = await flooding;
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(3_000);
    if (mode === 'anonymous') expect(counts.responses).toBeGreaterThan(1_000);
  });
});
