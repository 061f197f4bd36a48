// When the process behind a live session dies (killed, crashed, OOM), opsctl says the
// connection to it was lost and that it may have exited, and exits 4: a REPL session in
// a real terminal, and a piped leaks --watch.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { exampleApp, mintToken, opsctlBin, startApp, type RunningApp } from './support/processes.js';
import { missingTmuxReason, TmuxSession } from './support/tmux.js';

let token: { token: string; line: string };
const apps: RunningApp[] = [];

beforeAll(async () => {
  token = await mintToken('operator', 'admin');
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});

async function start(): Promise<{ app: RunningApp; env: Record<string, string> }> {
  const app = await startApp(exampleApp, { OPSCTL_TOKENS: token.line });
  apps.push(app);
  return { app, env: { OPSCTL_URL: app.ops, OPSCTL_TOKEN: token.token } };
}

const LOST = /the connection to the process at 127\.0\.0\.1:\d+ was lost; it may have exited or restarted/;

const missing = missingTmuxReason();
if (missing !== null) {
  if (process.env['CI']) throw new Error(`REPL terminal tests cannot run in CI: ${missing}`);
  console.warn(`skipping the REPL terminal test: ${missing}`);
}

describe('a lost connection', () => {
  it.skipIf(missing !== null)('ends an interactive REPL session with a sentence and exit 4 when the process is killed', async () => {
    const { app, env } = await start();
    const tmux = new TmuxSession(
      `before=$(stty -g); ${process.execPath} ${opsctlBin} repl; code=$?; [ "$(stty -g)" = "$before" ] && echo "[terminal restored]"; (exit $code)`,
      env,
    );
    try {
      await tmux.waitFor(/shop@.+\[\d+\]>\s*$/m);
      app.child.kill('SIGKILL');
      const screen = await tmux.waitFor(/\[exit \d+\]/);
      expect(screen.replace(/\n/g, '')).toMatch(LOST);
      expect(screen).toMatch(/\[exit 4\]/);
      expect(screen).toMatch(/\[terminal restored\]/);
    } finally {
      tmux.kill();
    }
  });

  it('ends a piped leaks --watch with a sentence and exit 4 when the process is killed', async () => {
    const { app, env } = await start();
    const child = spawn(process.execPath, [opsctlBin, 'leaks', '--watch'], { env: { PATH: process.env['PATH'], ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    // The first NDJSON line is the status: the stream is live.
    const first = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
    expect(JSON.parse(first)).toMatchObject({ type: 'status' });
    app.child.kill('SIGKILL');
    expect(await exited).toBe(4);
    expect(stderr).toMatch(LOST);
    expect(stderr).not.toMatch(/unexpected failure|other side closed/);
  });
});
