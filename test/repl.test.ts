// opsctl repl with the built binary against a real application: one-shot evaluation,
// the security checks, and an interactive session in a real pseudo-terminal (tmux).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleApp, mintToken, opsctl, opsctlBin, repoRoot, startApp, type RunningApp } from './support/processes.js';
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

  it('refuses a REPL command in piped code with a usage error, before sending anything', async () => {
    const run = await opsctl(['repl'], { env, stdin: 'orders.size\n.exit\n' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: \.exit is a command of interactive sessions; piped input is evaluated as one script/);
  });

  it('stops an infinite loop, and the app answers its own route right after', async () => {
    const run = await opsctl(['repl', '-e', 'while (true) {}', '--eval-timeout', '500ms'], { env });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/stopped: Script execution timed out after 500ms/);
    expect(run.stderr).toMatch(/the application allows at most 5s, set by repl\.evalTimeoutMs: raise --eval-timeout up to 5s/);
    const started = Date.now();
    const res = await fetch(`${app.app}/orders`);
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("refuses --eval-timeout above the application's repl.evalTimeoutMs, naming the limit", async () => {
    const run = await opsctl(['repl', '-e', '1', '--eval-timeout', '60s'], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: --eval-timeout may be at most 5s, the application's limit \(repl\.evalTimeoutMs\)$/m);
    expect(run.stderr).not.toMatch(/timeoutMs must|parameter/);
    expect((await opsctl(['repl', '-e', '1', '--eval-timeout', '5s'], { env })).stdout).toBe('1\n');
  });

  it('refuses without a token, without the repl scope, and where the app has not enabled it', async () => {
    expect((await opsctl(['repl', '-e', '1'], { env: { OPSCTL_URL: app.ops } })).code).toBe(3);
    const bad = await opsctl(['repl', '-e', '1'], { env: { OPSCTL_URL: app.ops, OPSCTL_TOKEN: (await mintToken('x', 'admin')).token } });
    expect(bad.code).toBe(3);
    const scope = await opsctl(['repl', '-e', '1'], { env: { OPSCTL_URL: app.ops, OPSCTL_TOKEN: viewer.token } });
    expect(scope.code).toBe(3);
    expect(scope.stderr).toMatch(/opsctl repl needs a token with the "repl" scope/);
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

// node:repl loads node:domain, which excludes process.setUncaughtExceptionCaptureCallback:
// the endpoint loads it only when a session or an evaluation starts.
describe('an application that uses process.setUncaughtExceptionCaptureCallback', () => {
  const packageDir = fileURLToPath(new URL('.', import.meta.url)); // resolves @opsctl/endpoint
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'opsctl-capture-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function runNode(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, args, { cwd: packageDir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.once('error', reject);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }
  const setCallback = 'process.setUncaughtExceptionCaptureCallback(() => {}); console.log("callback set");';

  it('can set one after importing @opsctl/endpoint and running it with the REPL enabled', async () => {
    const script = `
      import { createMaintenanceEndpoint } from '@opsctl/endpoint';
      const ops = createMaintenanceEndpoint({ tokens: process.env.OPSCTL_TOKENS, port: 0, audit: false, repl: { context: {} } });
      const { url } = await ops.listen();
      const status = await fetch(url + '/repl', { headers: { authorization: 'Bearer ' + process.env.TOKEN } });
      if (status.status !== 200) throw new Error('GET /repl answered ' + status.status);
      ${setCallback}
      await ops.close();`;
    const run = await runNode(['--input-type=module', '-e', script], { OPSCTL_TOKENS: operator.line, TOKEN: operator.token });
    expect(run).toMatchObject({ code: 0, stdout: 'callback set\n', stderr: '' });
  });

  it('can set one under the preload with OPSCTL_REPL=1', async () => {
    const run = await runNode(['--import', '@opsctl/endpoint/register', '-e', `${setCallback} process.exit(0);`], {
      OPSCTL_TOKENS: operator.line,
      OPSCTL_PORT: '0',
      OPSCTL_REPL: '1',
    });
    expect(run.stdout).toBe('callback set\n');
    expect(run.code).toBe(0);
  });

  it('that set one gets a REPL refusal saying why, and runs on', async () => {
    const script = join(dir, 'capture-app.mjs');
    writeFileSync(
      script,
      `
      import { createServer } from 'node:http';
      import { createMaintenanceEndpoint } from ${JSON.stringify(pathToFileURL(join(repoRoot, 'packages/endpoint/dist/index.js')).href)};
      process.setUncaughtExceptionCaptureCallback((error) => console.error('captured', error));
      const ops = createMaintenanceEndpoint({ tokens: process.env.OPSCTL_TOKENS, port: 0, app: { name: 'captor' }, repl: {} });
      const app = createServer((req, res) => res.end('ok')).listen(0, '127.0.0.1', async () => {
        const { url } = await ops.listen();
        console.log(JSON.stringify({ ready: true, app: 'http://127.0.0.1:' + app.address().port, ops: url, pid: process.pid }));
      });
      process.once('SIGTERM', () => process.exit(0));
    `,
    );
    const captor = await startApp(script, { OPSCTL_TOKENS: operator.line });
    try {
      const run = await opsctl(['repl', '-e', '1 + 1'], { env: { OPSCTL_URL: captor.ops, OPSCTL_TOKEN: operator.token } });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/REPL cannot run in this process: the application set process\.setUncaughtExceptionCaptureCallback/);
      expect(await (await fetch(captor.app)).text()).toBe('ok');
      expect(captor.stderr()).not.toMatch(/captured/);
    } finally {
      await captor.stop();
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
    const tmux = new TmuxSession(restoreChecked(`${process.execPath} ${opsctlBin} repl`), env);
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
      expect(await tmux.waitFor(/\[exit 0\]/)).toMatch(/\[terminal restored\]/);
    } finally {
      tmux.kill();
    }
  });

  it('gives the terminal back when opsctl is killed mid-session', async () => {
    const tmux = new TmuxSession(restoreChecked(`${process.execPath} ${opsctlBin} repl`), env);
    try {
      await tmux.waitFor(/shop@.+\[\d+\]>\s*$/m);
      const shell = execFileSync('tmux', ['-L', tmux.name, 'display-message', '-p', '-t', tmux.name, '#{pane_pid}'], { encoding: 'utf8' }).trim();
      const cli = execFileSync('pgrep', ['-P', shell], { encoding: 'utf8' }).trim();
      process.kill(Number(cli), 'SIGTERM');
      expect(await tmux.waitFor(/\[exit 143\]/)).toMatch(/\[terminal restored\]/);
    } finally {
      tmux.kill();
    }
  });

  it('prints characters whose bytes arrive in separate chunks whole', async () => {
    // A stand-in endpoint that sends its greeting one byte at a time.
    const greeting = 'caf\u00e9 \u20ac \u2713 \u{1F375}\r\n';
    const fake: Server = createServer((_req, res) => {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ sessions: 0, maxSessions: 1, evalTimeoutMs: 5000, idleTimeoutMs: 60_000, prompt: 'fake> ' }));
    });
    fake.on('upgrade', async (_req, socket: Socket) => {
      socket.setNoDelay(true);
      socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: opsctl-repl\r\nconnection: Upgrade\r\n\r\n');
      for (const byte of Buffer.from(greeting)) {
        socket.write(Buffer.of(byte));
        await new Promise((r) => setTimeout(r, 15));
      }
      socket.end();
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const tmux = new TmuxSession(`${process.execPath} ${opsctlBin} repl`, {
      OPSCTL_URL: `http://127.0.0.1:${(fake.address() as { port: number }).port}`,
      OPSCTL_TOKEN: 'any',
    });
    try {
      const screen = await tmux.waitFor(/\[exit \d+\]/);
      expect(screen).toContain(greeting.trim());
      expect(screen).not.toContain('\uFFFD');
    } finally {
      tmux.kill();
      fake.close();
    }
  });
});

/** Runs `command`, then says whether the terminal's settings are as before it. */
function restoreChecked(command: string): string {
  return `before=$(stty -g); ${command}; code=$?; [ "$(stty -g)" = "$before" ] && echo "[terminal restored]"; (exit $code)`;
}
