// An interactive REPL session the way an operator uses it, in a real terminal (tmux):
// Ctrl-C during a line, history that outlives the session on the operator's machine,
// `.save`/`.load` refused, Tab completion audited as the probe it is, and a refusal that
// names who holds the sessions. A real app process, the built binary.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, opsctlBin, startApp, type RunningApp } from './support/processes.js';
import { auditEvents, upgradeRepl } from './support/sockets.js';
import { readUntil, waitFor } from '../packages/endpoint/test-support/index.js';
import { missingTmuxReason, TmuxSession } from './support/tmux.js';

const targetApp = new URL('./fixtures/target-app.mjs', import.meta.url).pathname;
const noTmux = missingTmuxReason();
if (noTmux !== null && process.env['CI']) throw new Error(`interactive REPL tests cannot run in CI: ${noTmux}`);

let alice: { token: string; line: string };
let bob: { token: string; line: string };
let app: RunningApp;
let config: string;
let env: Record<string, string>;
const prompt = /target@.+\[\d+\]>\s*$/m;

beforeAll(async () => {
  [alice, bob] = await Promise.all([mintToken('alice', 'repl'), mintToken('bob', 'repl')]);
  app = await startApp(targetApp, { OPSCTL_TOKENS: `${alice.line};${bob.line}`, REPL: '1' });
  config = mkdtempSync(join(tmpdir(), 'opsctl-e2e-repl-session-'));
  env = { OPSCTL_URL: app.ops, OPSCTL_TOKEN: alice.token, OPSCTL_CONFIG_DIR: config };
});
afterAll(async () => {
  await app?.stop();
  rmSync(config, { recursive: true, force: true });
});

describe.skipIf(noTmux !== null)('an interactive REPL session', () => {
  it('stops a line that awaits at Ctrl-C and goes on; says at once that a running loop cannot be stopped, and does not take that Ctrl-C for one at the prompt', async () => {
    const tmux = new TmuxSession(`${process.execPath} ${opsctlBin} repl`, env);
    try {
      await tmux.waitFor(prompt);
      tmux.type('await new Promise((resolve) => setTimeout(resolve, 60000))');
      tmux.keys('Enter');
      await new Promise((r) => setTimeout(r, 500));
      tmux.keys('C-c');
      await tmux.waitFor(/ERR_SCRIPT_EXECUTION_INTERRUPTED[\s\S]*>\s*$/, 5_000);
      tmux.type('21 * 2');
      tmux.keys('Enter');
      await tmux.waitFor(/> 21 \* 2\n42\n/);

      tmux.type('while (true) {}');
      tmux.keys('Enter');
      await new Promise((r) => setTimeout(r, 1_000));
      tmux.keys('C-c');
      // Shown while the loop still runs (its limit is 5 s).
      await tmux.waitFor(/Ctrl-C: the main thread is running JavaScript, which cannot be stopped from outside/, 3_000);
      // A line typed meanwhile is told it waits, and runs after.
      tmux.type('20 + 22');
      tmux.keys('Enter');
      await tmux.waitFor(/the main thread has been running JavaScript for \d+\.\d s: this line runs when it is free/, 3_000);
      const after = await tmux.waitFor(/timed out after 5000ms[\s\S]*\n42\n[\s\S]*>\s*$/, 10_000);
      expect(after).not.toMatch(/To exit, press Ctrl\+C again/);
      tmux.type('.exit');
      tmux.keys('Enter');
      await tmux.waitFor(/\[exit 0\]/);
      const lines = auditEvents(app.stderr())
        .filter((e) => e.kind === 'repl' && e.token === 'alice')
        .map((e) => e.detail?.['outcome']);
      expect(lines).toEqual(expect.arrayContaining(['interrupted', 'ok', 'timeout']));
    } finally {
      tmux.kill();
    }
  });

  it("keeps the operator's history on the operator's machine, per target, at mode 0600, and offers it in the next session", async () => {
    const first = new TmuxSession(`${process.execPath} ${opsctlBin} repl`, env);
    try {
      await first.waitFor(prompt);
      first.type('const remembered = "from the first session"');
      first.keys('Enter');
      await first.waitFor(/undefined\n.*>\s*$/);
      first.type('.exit');
      first.keys('Enter');
      await first.waitFor(/\[exit 0\]/);
    } finally {
      first.kill();
    }
    const file = join(config, 'repl-history', new URL(app.ops).host.replace(/[^A-Za-z0-9._-]+/g, '_'));
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toContain(JSON.stringify('const remembered = "from the first session"'));

    const second = new TmuxSession(`${process.execPath} ${opsctlBin} repl`, env);
    try {
      await second.waitFor(prompt);
      second.keys('Up');
      await second.waitFor(/> const remembered = "from the first session"$/m);
    } finally {
      second.kill();
    }
  });

  it("refuses .save and .load, which would use the application's disk", async () => {
    const tmux = new TmuxSession(`${process.execPath} ${opsctlBin} repl`, env);
    try {
      await tmux.waitFor(prompt);
      tmux.type('.save /tmp/opsctl-should-not-exist.js');
      tmux.keys('Enter');
      await tmux.waitFor(/\.save is off here: it would use files on the application's machine/);
      expect(existsSync('/tmp/opsctl-should-not-exist.js')).toBe(false);
    } finally {
      tmux.kill();
    }
  });

  it('audits what Tab completion evaluates as a probe, not as a line', async () => {
    const tmux = new TmuxSession(`${process.execPath} ${opsctlBin} repl`, env);
    try {
      await tmux.waitFor(prompt);
      tmux.type('cache.');
      // One key at a time: keys arriving together read as pasted text, where Tab is a character.
      tmux.keys('Tab');
      await new Promise((r) => setTimeout(r, 300));
      tmux.keys('Tab');
      await tmux.waitFor(/cache\.size/);
      tmux.keys('C-c');
      tmux.type('.exit');
      tmux.keys('Enter');
      await tmux.waitFor(/\[exit 0\]/);
    } finally {
      tmux.kill();
    }
    const events = auditEvents(app.stderr()).filter((e) => e.kind === 'repl');
    expect(events.some((e) => e.detail?.['outcome'] === 'completion-probe' && String(e.detail?.['code']).includes('cache'))).toBe(true);
  });
});

describe('a refused session', () => {
  it('names who holds the sessions', async () => {
    const held = await Promise.all([
      upgradeRepl(app.ops, { authorization: `Bearer ${alice.token}` }),
      upgradeRepl(app.ops, { authorization: `Bearer ${bob.token}` }),
    ]);
    try {
      // What `opsctl repl` asks before it upgrades.
      const refused = await fetch(`${app.ops}/repl`, { headers: { authorization: `Bearer ${bob.token}` } });
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
        /^All 2 REPL sessions are in use: (alice|bob) since \d\d:\d\d UTC, (alice|bob) since \d\d:\d\d UTC\.$/,
      );
    } finally {
      for (const session of held) if ('socket' in session) session.socket.destroy();
    }
  });
});

describe('an error in a session', () => {
  it("shows the input's frames, not node's REPL machinery or the endpoint's, thrown at once or later", async () => {
    // The sessions the test before held end once the endpoint has seen their sockets close.
    let opened = await upgradeRepl(app.ops, { authorization: `Bearer ${alice.token}` });
    await waitFor(async () => 'socket' in opened || 'socket' in (opened = await upgradeRepl(app.ops, { authorization: `Bearer ${alice.token}` })), 10_000);
    if (!('socket' in opened)) throw new Error(`upgrade refused: ${JSON.stringify(opened)}`);
    const { socket } = opened;
    try {
      await readUntil(socket, /> $/);
      socket.write('function thrower() { throw new Error("at once") }; thrower()\n');
      const atOnce = await readUntil(socket, /Uncaught Error: at once[\s\S]*> $/);
      socket.write('Promise.reject(new Error("later"))\n');
      const later = await readUntil(socket, /Uncaught Error: later[\s\S]*> $/);
      expect(atOnce).toMatch(/at thrower \(REPL\d+:1:\d+\)/);
      for (const shown of [atOnce, later]) {
        expect(shown).not.toMatch(/node:vm|node:repl|node:domain|node:internal\/readline|packages\/endpoint\//);
      }
    } finally {
      socket.destroy();
    }
  });
});
