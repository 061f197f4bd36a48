// The endpoint answers when the application cannot: on its own port its server runs on a
// thread of its own, which sees the main thread's event loop blocked, takes its stack,
// records the block, and refuses at once what needs the main thread. Real app processes,
// the built binary.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../packages/endpoint/test-support/index.js';
import { mintToken, opsctl, opsctlBin, startApp, type RunningApp } from './support/processes.js';

const targetApp = new URL('./fixtures/target-app.mjs', import.meta.url).pathname;
const BLOCK_MS = 30_000;

let admin: { token: string; line: string };
let app: RunningApp;
let env: Record<string, string>;

beforeAll(async () => {
  admin = await mintToken('admin', 'admin');
  app = await startApp(targetApp, { OPSCTL_TOKENS: admin.line, REPL: '1' });
  env = { OPSCTL_URL: app.ops, OPSCTL_TOKEN: admin.token };
});
afterAll(() => app?.stop());

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await work();
  return { value, ms: Date.now() - started };
}

describe('a main thread blocked for 30 s in a synchronous loop', () => {
  it('is named by opsctl status and opsctl stack while it lasts, refused at once where the main thread is needed, and listed by opsctl blocks after', async () => {
    const blocking = fetch(`${app.app}/block?ms=${BLOCK_MS}`).then((res) => res.text());
    // The watchdog's threshold is 1 s; it takes the stack soon after.
    await new Promise((r) => setTimeout(r, 2_500));

    const status = await timed(() => opsctl(['status'], { env }));
    expect(status.value.code, status.value.stderr).toBe(0);
    expect(status.value.stdout).toMatch(/event loop blocked for \d+\.\d s in parseHugeReport \(target-app\.mjs:\d+\)/);
    expect(status.ms).toBeLessThan(3_000);

    const stack = await opsctl(['stack'], { env });
    expect(stack.code, stack.stderr).toBe(0);
    expect(stack.stdout).toMatch(/main thread: event loop blocked for/);
    expect(stack.stdout).toMatch(/at parseHugeReport \(.*target-app\.mjs:\d+:\d+\)/);

    const json = JSON.parse((await opsctl(['stack', '--json'], { env })).stdout);
    expect(json.mainThread).toMatchObject({
      watched: true,
      blocked: true,
      stack: expect.arrayContaining([expect.objectContaining({ function: 'parseHugeReport' })]),
    });

    const needsMain = await timed(() => opsctl(['repl', '-e', '1 + 1'], { env }));
    expect(needsMain.value.code).toBe(1);
    expect(needsMain.value.stderr).toMatch(/main thread has been blocked for \d+\.\d s in parseHugeReport/);
    expect(needsMain.value.stderr).toMatch(/opsctl stack/);
    expect(needsMain.ms).toBeLessThan(3_000);

    expect(await blocking).toBe('unblocked\n');
    await waitFor(async () => JSON.parse((await opsctl(['blocks', '--json'], { env })).stdout).blocks.length > 0, 10_000);
    const blocks = JSON.parse((await opsctl(['blocks', '--json'], { env })).stdout);
    const [block] = blocks.blocks;
    expect(block.durationMs).toBeGreaterThan(BLOCK_MS - 1_500);
    expect(block.durationMs).toBeLessThan(BLOCK_MS + 1_500);
    expect(block.stack[0]).toMatchObject({ function: 'parseHugeReport' });
    const text = await opsctl(['blocks'], { env });
    expect(text.stdout).toMatch(/1 block longer than 1\.0 s/);
    expect(text.stdout).toMatch(/\s+(29|30|31)\.\d s\s+parseHugeReport \(target-app\.mjs:\d+\)/);
    // And the process answers again: the main thread is free.
    expect((await opsctl(['repl', '-e', '1 + 1'], { env })).stdout).toBe('2\n');
    expect(app.stderr()).toMatch(/"kind":"block".*"durationMs":(29|30|31)\d{3}/);
  });
});

describe('a stack taken', () => {
  it('leaves no inspector session behind: the application exits on SIGTERM as before, without waiting for a debugger', async () => {
    const other = await startApp(targetApp, { OPSCTL_TOKENS: admin.line, EXIT_ABRUPTLY: '1' });
    const blocking = fetch(`${other.app}/block?ms=3000`).then((res) => res.text());
    await new Promise((r) => setTimeout(r, 1_500));
    const stack = await opsctl(['stack'], { env: { OPSCTL_URL: other.ops, OPSCTL_TOKEN: admin.token } });
    expect(stack.stdout).toMatch(/at parseHugeReport/);
    await blocking;
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => other.child.once('exit', (code, signal) => resolve(signal ?? code)));
    other.child.kill('SIGTERM');
    // The fixture exits 0 on SIGTERM; a session left open would hold it until the test kills it.
    expect(await exited).toBe(0);
    expect(other.stderr()).not.toMatch(/Waiting for the debugger/);
  });
});

describe('a heap snapshot in progress', () => {
  it('is named by opsctl status, with how long it has taken of how long it should', async () => {
    const big = await startApp(targetApp, { OPSCTL_TOKENS: admin.line, HEAP_MB: '150' });
    const snapshotPath = join(tmpdir(), `opsctl-thread-${process.pid}.heapsnapshot`);
    try {
      const bigEnv = { OPSCTL_URL: big.ops, OPSCTL_TOKEN: admin.token };
      const dump = opsctl(['heapdump', '--out', snapshotPath, '--force'], { env: bigEnv, timeoutMs: 120_000 });
      await waitFor(async () => /writing a heap snapshot: \d+\.\d s of an expected \d+\.\d s/.test((await opsctl(['status'], { env: bigEnv })).stdout), 30_000);
      expect((await dump).code).toBe(0);
    } finally {
      await big.stop();
      rmSync(snapshotPath, { force: true });
    }
  });
});

describe("the endpoint's thread", () => {
  it('is restarted when it dies, with one line on stderr, and the application goes on', async () => {
    // An operator with the REPL can reach the thread through the inspector, and crash it.
    const crash = `
      const inspector = require('node:inspector');
      const session = new inspector.Session();
      session.connect();
      session.on('NodeWorker.attachedToWorker', ({ params }) => {
        if (!String(params.workerInfo.title).includes('opsctl-endpoint')) return;
        session.post('NodeWorker.sendMessageToWorker', { sessionId: params.sessionId, message: JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression: 'setTimeout(() => { throw new Error("the thread crashed") }, 500)' } }) });
      });
      session.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
      'sent'`;
    const run = await opsctl(['repl', '-e', crash], { env });
    expect(run.stdout).toMatch(/sent/);
    await waitFor(() => /the maintenance endpoint's thread stopped \(an error: the thread crashed\); restarting it on port \d+/.test(app.stderr()), 10_000);
    expect(app.child.exitCode).toBeNull();
    expect((await fetch(app.app)).status).toBe(200);
    await waitFor(async () => (await opsctl(['status'], { env })).code === 0, 10_000);
  });
});

describe('with the watchdog off', () => {
  it('answers GET /info at once during a block, calling the main thread blocked from its heartbeat alone', async () => {
    const quiet = await startApp(targetApp, { OPSCTL_TOKENS: admin.line, WATCHDOG: 'off' });
    try {
      const blocking = fetch(`${quiet.app}/block?ms=5000`).then((res) => res.text());
      await new Promise((r) => setTimeout(r, 1_800));
      const { value: res, ms } = await timed(() => fetch(`${quiet.ops}/info`, { headers: { authorization: `Bearer ${admin.token}` } }));
      const info = (await res.json()) as { mainThread: { blocked: boolean; blockedForMs: number }; capture: unknown; workers: unknown };
      expect(res.status).toBe(200);
      expect(ms).toBeLessThan(2_000); // the block has seconds to go
      expect(info.mainThread).toMatchObject({ blocked: true, blockedForMs: expect.any(Number) });
      expect(info.mainThread.blockedForMs).toBeGreaterThanOrEqual(1_000);
      expect(info).toMatchObject({ capture: null, workers: null });
      await blocking;
    } finally {
      await quiet.stop();
    }
  });
});

describe('opsctl blocks --watch', () => {
  it('piped, prints the stream as JSON lines, a block as it ends; Ctrl-C exits 130, and a process that goes away exits 4', async () => {
    const watched = await startApp(targetApp, { OPSCTL_TOKENS: admin.line });
    try {
      const start = () => {
        const child = spawn(process.execPath, [opsctlBin, 'blocks', '--watch'], {
          env: { PATH: process.env['PATH'], OPSCTL_URL: watched.ops, OPSCTL_TOKEN: admin.token },
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk));
        child.stderr.on('data', (chunk: Buffer) => (err += chunk));
        const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
        return { child, out: () => out, err: () => err, exited };
      };
      const first = start();
      await waitFor(() => first.out().includes('\n'), 10_000);
      expect(JSON.parse(first.out().split('\n')[0] ?? '')).toMatchObject({ type: 'status', thresholdMs: 1000, blocks: [] });
      await fetch(`${watched.app}/block?ms=1500`).then((res) => res.text());
      await waitFor(() => first.out().includes('"type":"block"'), 10_000);
      const block = first
        .out()
        .split('\n')
        .map((line) => (line === '' ? null : JSON.parse(line)))
        .find((line) => line?.type === 'block');
      expect(block.block.durationMs).toBeGreaterThanOrEqual(1_000);
      first.child.kill('SIGINT');
      expect(await first.exited).toBe(130);

      const second = start();
      await waitFor(() => second.out().includes('\n'), 10_000);
      watched.child.kill('SIGKILL');
      expect(await second.exited).toBe(4);
      expect(second.err()).toMatch(/connection to the process at .* was lost/);
    } finally {
      await watched.stop();
    }
  });
});
