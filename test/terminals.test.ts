// The built binary in real terminals: a pty that reports 0 columns (script(1), as
// `ssh -tt` and some CI runners give), where ora would redraw forever, and a tmux pane
// of normal width. Progress must degrade to a bounded number of plain lines, and
// Ctrl-C or SIGTERM must always end the command with 130 or 143 and no file.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, opsctlBin, startApp, type RunningApp } from './support/processes.js';
import { missingScriptReason, ScriptPty } from './support/script-pty.js';
import { missingTmuxReason, TmuxSession } from './support/tmux.js';

const heapApp = fileURLToPath(new URL('./fixtures/heap-app.mjs', import.meta.url));
const opsApp = fileURLToPath(new URL('./fixtures/ops-app.mjs', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'opsctl-e2e-terminals-'));
// A profile of a few seconds writes a handful of lines; ora on 0 columns wrote megabytes.
const BOUNDED_BYTES = 8_000;
let app: RunningApp;
let big: RunningApp;
let env: Record<string, string>;
let bigEnv: Record<string, string>;

const missing = missingScriptReason() ?? missingTmuxReason();
if (missing !== null) {
  if (process.env['CI']) throw new Error(`terminal tests cannot run in CI: ${missing}`);
  console.warn(`skipping terminal tests: ${missing}`);
}

beforeAll(async () => {
  const token = await mintToken('sre', 'admin');
  app = await startApp(opsApp, { OPSCTL_TOKENS: token.line });
  // Big enough that its snapshot takes a while to pause for and to download.
  big = await startApp(heapApp, { OPSCTL_TOKENS: token.line, HEAP_MB: '60' });
  env = { OPSCTL_URL: app.ops, OPSCTL_TOKEN: token.token };
  bigEnv = { OPSCTL_URL: big.ops, OPSCTL_TOKEN: token.token };
});
afterAll(async () => {
  await Promise.all([app?.stop(), big?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

function outDir(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  return dir;
}

const opsctl = `${process.execPath} ${opsctlBin}`;

describe.skipIf(missing !== null)('on a terminal that reports 0 columns (script -qc)', () => {
  it('shows progress as a few plain lines, and finishes', async () => {
    const dir = outDir('zero-columns');
    const pty = new ScriptPty(`${opsctl} profile cpu --duration 3s --out ${dir}/`, env);
    try {
      expect(await pty.exited).toBe(0);
      expect(pty.output).toMatch(/^starting the CPU profile…\r?$/m);
      expect(pty.output).toMatch(/^profiling CPU for 3s… \ds left \(Ctrl-C stops it\)\r?$/m);
      expect(pty.output).toMatch(/CPU profile written to /);
      // No cursor movement or line erasing: lines only.
      expect(pty.output).not.toMatch(/\u001b\[\d*[ABGJK]/);
      expect(pty.bytes).toBeLessThan(BOUNDED_BYTES);
      expect(readdirSync(dir)).toEqual([expect.stringMatching(/\.cpuprofile$/)]);
    } finally {
      pty.kill();
    }
  });

  it('ends on Ctrl-C with 130 and writes no file', async () => {
    const dir = outDir('zero-columns-ctrl-c');
    const pty = new ScriptPty(`${opsctl} profile cpu --duration 2m --out ${dir}/`, env);
    try {
      await pty.waitFor(/profiling CPU for 2m/);
      pty.interrupt();
      expect(await pty.exited).toBe(130);
      expect(pty.output).toMatch(/cancelled; no file was written/);
      expect(pty.bytes).toBeLessThan(BOUNDED_BYTES);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      pty.kill();
    }
  });

  it('ends on SIGTERM mid-download with 143 and leaves neither the file nor its temp file', async () => {
    const dir = outDir('zero-columns-sigterm');
    const pty = new ScriptPty(`${opsctl} heapdump --out ${dir}/`, bigEnv);
    try {
      await pty.waitFor(/snapshotting .* of heap|downloading/);
      pty.signal('SIGTERM');
      expect(await pty.exited).toBe(143);
      expect(pty.output).toMatch(/cancelled; no file was written/);
      // Stopped during the pause: the operator learns that the process is not released.
      expect(pty.output).toMatch(/the process stays paused until V8 has written the whole snapshot/);
      expect(pty.bytes).toBeLessThan(BOUNDED_BYTES);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      pty.kill();
    }
  });
});

describe.skipIf(missing !== null)('in a terminal of normal width (tmux)', () => {
  it('draws a spinner, and Ctrl-C ends the command with 130 and no file', async () => {
    const dir = outDir('tmux-ctrl-c');
    const tmux = new TmuxSession(`${opsctl} profile cpu --duration 2m --out ${dir}/`, env);
    try {
      // ora's dots spinner, drawn in place.
      expect(await tmux.waitFor(/profiling CPU for 2m… .* left \(Ctrl-C stops it\)/)).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] profiling/);
      tmux.keys('C-c');
      const screen = await tmux.waitFor(/\[exit \d+\]/);
      expect(screen).toMatch(/cancelled; no file was written/);
      expect(screen).toMatch(/\[exit 130\]/);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      tmux.kill();
    }
  });

  it('ends leaks --watch on Ctrl-C with 130, as documented', async () => {
    const tmux = new TmuxSession(`${opsctl} leaks --watch`, env);
    try {
      await tmux.waitFor(/^verdict /m);
      tmux.keys('C-c');
      expect(await tmux.waitFor(/\[exit \d+\]/)).toMatch(/\[exit 130\]/);
    } finally {
      tmux.kill();
    }
  });
});
