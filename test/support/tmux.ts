// Drives a program in a real pseudo-terminal through tmux: type keys, read the screen.
import { execFileSync, spawnSync } from 'node:child_process';

export function missingTmuxReason(): string | null {
  return spawnSync('sh', ['-c', 'command -v tmux']).status === 0 ? null : 'tmux is not installed (Debian: apt-get install tmux)';
}

// Each session runs on a tmux server of its own (-L): sessions of parallel test files, or
// of anyone else on the machine, cannot take a shared server down under it.
export class TmuxSession {
  readonly name: string;

  /** Starts `command` (run by sh) in a detached session of the given size. */
  constructor(command: string, env: Record<string, string>, columns = 120, rows = 40) {
    this.name = `opsctl-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const exports = Object.entries(env)
      .map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}';`)
      .join(' ');
    execFileSync('tmux', [
      '-L',
      this.name,
      'new-session',
      '-d',
      '-s',
      this.name,
      '-x',
      String(columns),
      '-y',
      String(rows),
      `${exports} ${command}; echo "[exit $?]"; sleep 60`,
    ]);
  }

  /** Sends keys as tmux names them: literal text, or 'Enter', 'Tab', 'C-c', 'C-d'. */
  keys(...keys: string[]): void {
    execFileSync('tmux', ['-L', this.name, 'send-keys', '-t', this.name, ...keys]);
  }

  /** Types text literally (no key-name interpretation; "--flag" is text too). */
  type(text: string): void {
    execFileSync('tmux', ['-L', this.name, 'send-keys', '-t', this.name, '-l', '--', text]);
  }

  screen(): string {
    return execFileSync('tmux', ['-L', this.name, 'capture-pane', '-p', '-t', this.name], { encoding: 'utf8' });
  }

  /** Waits until the screen matches `pattern`; returns the screen. */
  async waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      if (pattern.test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`screen never matched ${pattern}:\n${screen}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  kill(): void {
    spawnSync('tmux', ['-L', this.name, 'kill-server']);
  }
}
