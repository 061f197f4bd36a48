// Help and completion as gh, kubectl and docker users expect: bare command groups print
// their help on stdout and exit 0; every command's help shows the global flags and an
// Examples section; `opsctl completion bash` completes in a real bash (tmux).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opsctl, opsctlBin } from './support/processes.js';
import { missingTmuxReason, TmuxSession } from './support/tmux.js';

const work = mkdtempSync(join(tmpdir(), 'opsctl-e2e-help-'));
// `opsctl` on PATH, as an installed CLI is: what completion scripts complete.
const binDir = join(work, 'bin');
beforeAll(() => {
  mkdirSync(binDir);
  writeFileSync(join(binDir, 'opsctl'), `#!/bin/sh\nexec ${process.execPath} ${opsctlBin} "$@"\n`, { mode: 0o755 });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));
const pathWithOpsctl = `${binDir}:${process.env['PATH']}`;

/** Every command path, from the Commands: sections of the help, recursively. */
async function commandPaths(path: string[] = []): Promise<string[][]> {
  const help = (await opsctl([...path, '--help'])).stdout;
  const section = help.split(/\nCommands:\n/)[1]?.split(/\n\n/)[0] ?? '';
  // "remove|rm": a command and its alias.
  const names = [...section.matchAll(/^ {2}([^\s|]+)/gm)].map((m) => m[1] as string).filter((name) => name !== 'help');
  const nested = await Promise.all(names.map((name) => commandPaths([...path, name])));
  return [path, ...nested.flat()];
}

describe('help', () => {
  it('bare opsctl and bare command groups print their help on stdout and exit 0', async () => {
    for (const args of [[], ['context'], ['profile'], ['snapshots'], ['token']]) {
      const run = await opsctl(args);
      expect(run.code, args.join(' ')).toBe(0);
      expect(run.stderr, args.join(' ')).toBe('');
      expect(run.stdout, args.join(' ')).toMatch(/^Usage: opsctl/);
    }
  });

  it('an unknown subcommand is still a usage error', async () => {
    const run = await opsctl(['context', 'lsit']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown command 'lsit'/);
    expect(run.stderr).toMatch(/Did you mean list\?/);
    expect((await opsctl(['help', 'nosuch'])).code).toBe(2);
    expect((await opsctl(['help', 'heapdump'])).code).toBe(0);
  });

  it('every command shows the global flags and examples', async () => {
    const paths = await commandPaths();
    expect(paths.length).toBeGreaterThan(20);
    for (const path of paths.filter((p) => p.length > 0)) {
      const help = (await opsctl([...path, '--help'])).stdout;
      const name = path.join(' ');
      expect(help, name).toMatch(/\nGlobal Options:\n(.*\n)*\s+--json\b/);
      for (const flag of ['--url', '--context', '--timeout <duration>']) expect(help, name).toContain(flag);
      expect(help, name).toMatch(/\nExamples:\n {2}\$ opsctl /);
    }
  });
});

const missing = missingTmuxReason();
if (missing !== null) {
  if (process.env['CI']) throw new Error(`completion tests cannot run in CI: ${missing}`);
  console.warn(`skipping completion tests: ${missing}`);
}

describe.skipIf(missing !== null)('opsctl completion bash, sourced in a real bash', () => {
  it('completes commands, subcommands, flags and context names', async () => {
    const config = join(work, 'config');
    // A context to complete.
    mkdirSync(config);
    writeFileSync(
      join(config, 'config.json'),
      JSON.stringify({ version: 1, current: null, contexts: { staging: { url: 'http://127.0.0.1:9500', credential: 'file' } } }),
    );
    const tmux = new TmuxSession('bash --norc --noprofile', { PATH: pathWithOpsctl, OPSCTL_CONFIG_DIR: config, PS1: '$ ' });
    try {
      await tmux.waitFor(/^\$\s*$/m); // tmux trims the prompt's trailing space
      tmux.type('source <(opsctl completion bash)');
      tmux.keys('Enter');
      tmux.type('opsctl hea');
      tmux.keys('Tab');
      // heapdump and heapdiff share "heapd": the line completes to it, a second Tab lists both.
      await tmux.waitFor(/\$ opsctl heapd$/m);
      tmux.keys('Tab', 'Tab');
      const listed = await tmux.waitFor(/heapdiff\s+heapdump/);
      expect(listed).toMatch(/heapdiff\s+heapdump/);
      tmux.type('u');
      tmux.keys('Tab');
      await tmux.waitFor(/\$ opsctl heapdump\s*$/m);
      tmux.type('--sk');
      tmux.keys('Tab');
      await tmux.waitFor(/\$ opsctl heapdump --skip-memory-check\s*$/m);
      tmux.keys('C-u');
      tmux.type('opsctl context re');
      tmux.keys('Tab');
      await tmux.waitFor(/\$ opsctl context remove\s*$/m);
      tmux.type('st');
      tmux.keys('Tab');
      await tmux.waitFor(/\$ opsctl context remove staging\s*$/m);
    } finally {
      tmux.kill();
    }
  });
});

// zsh and fish are not on every machine (CI's image has bash only): tested where installed.
const hasShell = (shell: string) => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;

describe.skipIf(!hasShell('fish'))('opsctl completion fish', () => {
  it('completes commands, subcommands and flags', () => {
    const complete = (line: string) =>
      execFileSync('fish', ['--no-config', '-c', `opsctl completion fish | source; complete -C${JSON.stringify(line)}`], {
        encoding: 'utf8',
        env: { ...process.env, PATH: pathWithOpsctl },
      });
    expect(complete('opsctl hea')).toMatch(/^heapdiff\t.*\nheapdump\t/m);
    expect(complete('opsctl --context prod context re')).toMatch(/^remove\t/m);
    expect(complete('opsctl heapdump --sk')).toMatch(/^--skip-memory-check$/m);
  });
});

describe.skipIf(!hasShell('zsh') || missing !== null)('opsctl completion zsh, sourced in a real zsh', () => {
  it('completes commands with their descriptions', async () => {
    const tmux = new TmuxSession('zsh -f', { PS1: '%% ', PATH: pathWithOpsctl });
    try {
      await tmux.waitFor(/^%\s*$/m);
      tmux.type('autoload -U compinit && compinit -u && source <(opsctl completion zsh)');
      tmux.keys('Enter');
      tmux.type('opsctl hea');
      tmux.keys('Tab');
      await tmux.waitFor(/^% opsctl heapd$/m);
      tmux.keys('Tab');
      await tmux.waitFor(/^heapdump +-- write a heap snapshot/m);
    } finally {
      tmux.kill();
    }
  });
});
