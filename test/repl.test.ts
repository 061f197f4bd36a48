// opsctl repl with the built binary against a real application: one-shot evaluation,
// the security checks, and an interactive session in a real pseudo-terminal (tmux).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { exampleApp, mintToken, opsctl, opsctlBin, startApp, type RunningApp } from './support/processes.js';
import { missingTmuxReason, TmuxSession } from './support/tmux.js';

let app: RunningApp;
let operator: { token: string; line: string };
let viewer: { token: string; line: string };
let env: Record<string, string>;

beforeAll(async () => {
  operator = await mintToken('operator', 'repl');
  viewer = await mintToken('viewer', 'read');
  app = await startApp(exampleApp, { OPSCTL_TOKENS: `${operator.line};${viewer.line}` });
  env = { OPSCTL_URL: app.ops, OPSCTL_TOKEN: operator.token };
});
afterAll(() => app?.stop());

describe('opsctl repl -e and piped stdin', () => {
  it('prints the result and exits 0', async () => {
    const run = await opsctl(['repl', '-e', '[...orders.values()].map((o) => o.item)'], { env });
    expect(run).toMatchObject({ code: 0, stdout: "[ 'teapot' ]\n", stderr: '' });
  });

  it('exits 1 with the error when the code throws, and prints JSON with --json', async () => {
    const thrown = await opsctl(['repl', '-e', 'orders.get(1).nothing.here'], { env });
    expect(thrown.code).toBe(1);
    expect(thrown.stderr).toMatch(/^error: Uncaught TypeError: Cannot read properties of undefined/);
    const json = await opsctl(['repl', '-e', 'orders.size', '--json'], { env });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, result: '1', type: 'number' });
  });

  it('evaluates a script piped on stdin as one unit', async () => {
    const run = await opsctl(['repl'], { env, stdin: 'const items = [...orders.values()];\nconsole.log("counting");\nitems.length * 10\n' });
    expect(run).toMatchObject({ code: 0, stdout: 'counting\n10\n' });
  });

  it('stops an infinite loop, and the app answers its own route right after', async () => {
    const run = await opsctl(['repl', '-e', 'while (true) {}', '--eval-timeout', '500'], { env });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/stopped: Script execution timed out after 500ms/);
    const started = Date.now();
    const res = await fetch(`${app.app}/orders`);
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('refuses without a token, without the repl scope, and where the app has not enabled it', async () => {
    expect((await opsctl(['repl', '-e', '1'], { env: { OPSCTL_URL: app.ops } })).code).toBe(2);
    const bad = await opsctl(['repl', '-e', '1'], { env: { OPSCTL_URL: app.ops, OPSCTL_TOKEN: (await mintToken('x', 'admin')).token } });
    expect(bad.code).toBe(3);
    const scope = await opsctl(['repl', '-e', '1'], { env: { OPSCTL_URL: app.ops, OPSCTL_TOKEN: viewer.token } });
    expect(scope.code).toBe(3);
    expect(scope.stderr).toMatch(/lacks the "repl" scope/);
    const heapApp = fileURLToPath(new URL('./fixtures/heap-app.mjs', import.meta.url));
    const plain = await startApp(heapApp, { OPSCTL_TOKENS: operator.line });
    try {
      const disabled = await opsctl(['repl', '-e', '1'], { env: { OPSCTL_URL: plain.ops, OPSCTL_TOKEN: operator.token } });
      expect(disabled.code).toBe(1);
      expect(disabled.stderr).toMatch(/has not enabled the REPL/);
    } finally {
      await plain.stop();
    }
  });
});

const noTmux = missingTmuxReason();
if (noTmux !== null) {
  if (process.env['CI']) throw new Error(`interactive REPL tests cannot run in CI: ${noTmux}`);
  console.warn(`skipping interactive REPL tests: ${noTmux}`);
}

describe.skipIf(noTmux !== null)('opsctl repl in a terminal', () => {
  it('completes exposed names with Tab, takes multi-line input, cancels a line with Ctrl-C, and leaves with .exit', async () => {
    const tmux = new TmuxSession(`${process.execPath} ${opsctlBin} repl`, env);
    try {
      const prompt = /shop@.+\[\d+\]>\s*$/m;
      await tmux.waitFor(prompt);
      tmux.type('ord');
      tmux.keys('Tab');
      await tmux.waitFor(/> orders$/m);
      tmux.type('.size');
      tmux.keys('Enter');
      await tmux.waitFor(/> orders\.size\n1\n/);

      tmux.type('function twice(n) {');
      tmux.keys('Enter');
      // Node 20's continuation prompt is "...", Node 24's "|".
      await tmux.waitFor(/^(\.\.\.|\|)\s*$/m);
      tmux.type('return n * 2 }');
      tmux.keys('Enter');
      tmux.type('twice(21)');
      tmux.keys('Enter');
      await tmux.waitFor(/> twice\(21\)\n42\n/);

      tmux.type('this line is cancelled');
      tmux.keys('C-c');
      tmux.type('1 + 1');
      tmux.keys('Enter');
      const screen = await tmux.waitFor(/> 1 \+ 1\n2\n/);
      expect(screen).not.toMatch(/this line is cancelled\n(Uncaught|ReferenceError)/);

      tmux.type('.exit');
      tmux.keys('Enter');
      await tmux.waitFor(/\[exit 0\]/);
    } finally {
      tmux.kill();
    }
  });
});
