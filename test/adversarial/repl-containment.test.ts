// Nothing typed into a REPL session or `opsctl repl -e` may end the process: an error its
// input raises later (a promise left rejected, a callback that throws) is contained,
// shown to the session that caused it, and audited; the application's own unhandled
// rejections keep the handling it configured. Real app processes, the built binary, raw
// REPL upgrades.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, opsctl, startApp, type RunningApp } from '../support/processes.js';
import { auditEvents, upgradeRepl } from '../support/sockets.js';
import { readUntil, waitFor } from '../../packages/endpoint/test-support/index.js';

const targetApp = new URL('../fixtures/target-app.mjs', import.meta.url).pathname;

let operator: { token: string; line: string };
let app: RunningApp;
let env: Record<string, string>;

beforeAll(async () => {
  operator = await mintToken('operator', 'repl');
  app = await startApp(targetApp, { OPSCTL_TOKENS: operator.line, REPL: '1' });
  env = { OPSCTL_URL: app.ops, OPSCTL_TOKEN: operator.token };
});
afterAll(() => app?.stop());

async function stillServes(target: RunningApp): Promise<void> {
  expect(target.child.exitCode, target.stderr()).toBeNull();
  const res = await fetch(target.app);
  expect(res.status).toBe(200);
  await res.arrayBuffer();
}

const uncaughtAudited = (target: RunningApp, message: string) => () =>
  auditEvents(target.stderr()).some((e) => e.kind === 'repl' && e.detail?.['outcome'] === 'uncaught' && String(e.detail?.['error']).includes(message));

describe('opsctl repl -e', () => {
  it('contains a promise the code leaves rejected: prints the result, then the error, exits 1, and the app goes on', async () => {
    const run = await opsctl(['repl', '-e', 'Promise.reject(new Error("left rejected")); 1'], { env });
    expect(run.stdout).toBe('1\n');
    expect(run.stderr).toMatch(/^error: Uncaught Error: left rejected/);
    expect(run.code).toBe(1);
    await new Promise((r) => setTimeout(r, 200));
    await stillServes(app);
    expect(auditEvents(app.stderr()).some((e) => e.route === '/eval' && e.detail?.['uncaught'] === 1)).toBe(true);
  });

  it("answers an awaited rejection as the evaluation's own error at once, not after the time limit", async () => {
    const started = Date.now();
    const run = await opsctl(['repl', '-e', 'await Promise.reject(new Error("awaited"))'], { env });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: Uncaught Error: awaited/);
    expect(Date.now() - started).toBeLessThan(4_000); // the limit is 5 s
    await stillServes(app);
  });

  const later: [string, string, string][] = [
    ['a timer that throws', 'setTimeout(() => { throw new Error("timer threw") }, 100); 1', 'timer threw'],
    ['a promise that rejects later', 'new Promise((_, reject) => setTimeout(() => reject(new Error("rejected later")), 100)); 1', 'rejected later'],
    [
      'an emitter it created, emitting an unhandled error',
      'const e = new (require("events"))(); setTimeout(() => e.emit("error", new Error("emitter error")), 100); 1',
      'emitter error',
    ],
    ['an I/O callback that throws', 'require("fs").readFile("/nonexistent", () => { throw new Error("io threw") }); 1', 'io threw'],
    ['a microtask that throws', 'setTimeout(() => queueMicrotask(() => { throw new Error("microtask threw") }), 100); 1', 'microtask threw'],
    ['an immediate that throws', 'setTimeout(() => setImmediate(() => { throw new Error("immediate threw") }), 100); 1', 'immediate threw'],
    ['a nextTick that throws', 'setTimeout(() => process.nextTick(() => { throw new Error("tick threw") }), 100); 1', 'tick threw'],
  ];
  it.each(later)('contains %s after the answer, audits it, and the app goes on', async (_what, code, message) => {
    const run = await opsctl(['repl', '-e', code], { env });
    expect(run).toMatchObject({ code: 0, stdout: '1\n' });
    await waitFor(uncaughtAudited(app, message), 5_000);
    await stillServes(app);
  });
});

describe('an interactive REPL session', () => {
  it('shows an error its input raised later as node does, goes on evaluating, and contains what outlives the session', async () => {
    const opened = await upgradeRepl(app.ops, { authorization: `Bearer ${operator.token}` });
    if (!('socket' in opened)) throw new Error(`upgrade refused: ${JSON.stringify(opened)}`);
    const { socket } = opened;
    try {
      await readUntil(socket, /> $/);
      socket.write('Promise.reject(new Error("in session")); 42\n');
      expect(await readUntil(socket, /Uncaught Error: in session[\s\S]*> $/)).toContain('42');
      socket.write('setTimeout(() => { throw new Error("timer in session") }, 50); 7\n');
      expect(await readUntil(socket, /Uncaught Error: timer in session[\s\S]*> $/)).toContain('7');
      socket.write('1 + 1\n');
      expect(await readUntil(socket, /2\s*\n.*> $/)).toBeTruthy();
      // Scheduled to throw after the session has gone.
      socket.write('setTimeout(() => { throw new Error("after the session") }, 400); 0\n');
      await readUntil(socket, /0\s*\n.*> $/);
    } finally {
      socket.destroy();
    }
    await waitFor(
      () =>
        auditEvents(app.stderr()).some(
          (e) => e.detail?.['outcome'] === 'uncaught' && e.detail?.['error'] === 'Error: after the session' && e.detail?.['sessionOpen'] === false,
        ),
      5_000,
    );
    await stillServes(app);
    const lines = auditEvents(app.stderr()).filter((e) => e.kind === 'repl' && e.route === '/repl');
    expect(lines.filter((e) => e.detail?.['outcome'] === 'uncaught').map((e) => e.detail?.['error'])).toEqual([
      'Error: in session',
      'Error: timer in session',
      'Error: after the session',
    ]);
  });
});

describe("the application's own errors", () => {
  it("stay fatal under node's default mode, as the application configured, even after REPL use", async () => {
    const other = await startApp(targetApp, { OPSCTL_TOKENS: operator.line, REPL: '1' });
    try {
      const run = await opsctl(['repl', '-e', 'Promise.reject(new Error("repl")); 1'], { env: { OPSCTL_URL: other.ops, OPSCTL_TOKEN: operator.token } });
      expect(run.stdout).toBe('1\n');
      const exited = new Promise<number | null>((resolve) => other.child.once('exit', (code) => resolve(code)));
      await fetch(`${other.app}/reject`).then((res) => res.arrayBuffer());
      expect(await exited).toBe(1);
      expect(other.stderr()).toMatch(/the application rejected this itself/);
    } finally {
      await other.stop();
    }
  });

  it('only warn under --unhandled-rejections=warn, as the application configured', async () => {
    const other = await startApp(targetApp, { OPSCTL_TOKENS: operator.line, REPL: '1' }, ['--unhandled-rejections=warn']);
    try {
      await opsctl(['repl', '-e', 'Promise.reject(new Error("repl")); 1'], { env: { OPSCTL_URL: other.ops, OPSCTL_TOKEN: operator.token } });
      await fetch(`${other.app}/reject`).then((res) => res.arrayBuffer());
      await waitFor(() => /UnhandledPromiseRejectionWarning: Error: the application rejected this itself/.test(other.stderr()), 5_000);
      await stillServes(other);
    } finally {
      await other.stop();
    }
  });
});

// Showing an answer runs the input's code too: node's REPL lets what that code throws
// reach the process, and no time limit covers it. Each of these ended the process or
// hung the main thread before the endpoint showed values itself.
describe('what showing an answer runs', () => {
  const crashers: [string, string, RegExp][] = [
    ['a custom inspect that throws', '({ [Symbol.for("nodejs.util.inspect.custom")]() { throw new Error("inspect threw") } })', /could not be shown: it threw/],
    [
      'a custom inspect that never returns',
      '({ [Symbol.for("nodejs.util.inspect.custom")]() { for (;;); } })',
      /could not be shown: it ran past the time limit/,
    ],
    [
      'an error whose stack getter throws',
      'const e = new Error("x"); Object.defineProperty(e, "stack", { get() { throw new Error("stack threw") } }); throw e',
      /details could not be read/,
    ],
    [
      'a thrown Proxy whose traps throw',
      'throw new Proxy({}, { get() { throw new Error("trap") }, getPrototypeOf() { throw new Error("trap") }, getOwnPropertyDescriptor() { throw new Error("trap") } })',
      /error/i,
    ],
    ['a thenable whose then loops', '({ then() { for (;;); } })', /then: \[Function: then\]/],
  ];
  it.each(crashers)('opsctl repl -e survives %s and says what happened', async (_what, code, said) => {
    const run = await opsctl(['repl', '-e', code], { env, timeoutMs: 20_000 });
    expect(run.stdout + run.stderr).toMatch(said);
    await stillServes(app);
  });

  it('cuts an error message of 40 MB to what a reader can use', async () => {
    const run = await opsctl(['repl', '-e', 'throw new Error("x".repeat(40e6))'], { env, timeoutMs: 20_000 });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cut at 100000 characters/);
    expect(run.stderr.length).toBeLessThan(300_000);
    await stillServes(app);
  });

  it('contains a FinalizationRegistry callback that throws at a later GC', async () => {
    const run = await opsctl(
      ['repl', '-e', 'process.__r = new FinalizationRegistry(() => { throw new Error("cleanup threw") }); (function(){ process.__r.register({}, 1) })(); 1'],
      { env },
    );
    expect(run).toMatchObject({ code: 0, stdout: '1\n' });
    // A full GC, as an operator could force one, until V8 runs the cleanup.
    const collect = 'require("v8").setFlagsFromString("--expose-gc"); require("vm").runInNewContext("gc")(); 0';
    await waitFor(async () => {
      await opsctl(['repl', '-e', collect], { env });
      return uncaughtAudited(app, 'cleanup threw')();
    }, 15_000);
    await stillServes(app);
  });

  it('in a session: a custom inspect that throws or loops, and an error whose stack getter throws, leave the session and the app going', async () => {
    const opened = await upgradeRepl(app.ops, { authorization: `Bearer ${operator.token}` });
    if (!('socket' in opened)) throw new Error(`upgrade refused: ${JSON.stringify(opened)}`);
    const { socket } = opened;
    try {
      await readUntil(socket, /> $/);
      socket.write('({ [Symbol.for("nodejs.util.inspect.custom")]() { throw new Error("boom") } })\n');
      expect(await readUntil(socket, /> $/)).toMatch(/could not be shown: it threw/);
      socket.write('({ [Symbol.for("nodejs.util.inspect.custom")]() { for (;;); } })\n');
      expect(await readUntil(socket, /> $/, 20_000)).toMatch(/could not be shown: it ran past the time limit/);
      socket.write('{ const e = new Error("x"); Object.defineProperty(e, "stack", { get() { throw new Error("stack threw") } }); throw e }\n');
      await readUntil(socket, /> $/);
      socket.write('6 * 7\n');
      expect(await readUntil(socket, /42[\s\S]*> $/)).toBeTruthy();
    } finally {
      socket.destroy();
    }
    await stillServes(app);
  });
});
