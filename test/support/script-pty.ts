// Runs a command in a pseudo-terminal that reports 0 columns, as `script -qc CMD
// /dev/null`, `ssh -tt` and some CI runners give: what is written to it, how many bytes,
// and its exit code. Ctrl-C is typed into the terminal (the line discipline turns it
// into SIGINT for the command), as a user would.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { waitFor } from '../../packages/endpoint/test-support/index.js';

export function missingScriptReason(): string | null {
  return spawnSync('sh', ['-c', 'command -v script']).status === 0 ? null : 'script(1) is not installed (Debian: apt-get install bsdutils)';
}

export class ScriptPty {
  readonly #child: ChildProcess;
  #output = '';
  #bytes = 0;
  readonly exited: Promise<number | null>;

  /** Starts `command` (run by sh, with exec, so the command is the terminal's process). */
  constructor(command: string, env: Record<string, string | undefined>) {
    // -e: exit with the command's code; -q: no "Script started" lines.
    this.#child = spawn('script', ['-qec', `exec ${command}`, '/dev/null'], {
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#child.stdout!.on('data', (chunk: Buffer) => {
      this.#bytes += chunk.length;
      // Keep what a test reads bounded even if the command floods the terminal.
      if (this.#output.length < 1_000_000) this.#output += chunk.toString('utf8');
    });
    this.exited = new Promise((resolve) => this.#child.once('exit', (code) => resolve(code)));
  }

  get output(): string {
    return this.#output;
  }

  /** Every byte written to the terminal so far. */
  get bytes(): number {
    return this.#bytes;
  }

  async waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<void> {
    await waitFor(() => pattern.test(this.#output), timeoutMs).catch(() => {
      throw new Error(`terminal never showed ${pattern} (${this.#bytes} bytes):\n${this.#output.slice(-2000)}`);
    });
  }

  /** Types Ctrl-C into the terminal. */
  interrupt(): void {
    this.#child.stdin!.write('\u0003');
  }

  /** Sends `signal` to the command itself (not to script). */
  signal(signal: NodeJS.Signals): void {
    const pid = this.#commandPid();
    if (pid !== null) process.kill(pid, signal);
  }

  /** Ends the command and script, whatever state they are in (a command that ignores signals too). */
  kill(): void {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const pid = this.#commandPid();
    if (pid !== null) process.kill(pid, 'SIGKILL');
    this.#child.kill('SIGKILL');
  }

  #commandPid(): number | null {
    const found = spawnSync('pgrep', ['-P', String(this.#child.pid)], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')[0];
    return found ? Number(found) : null;
  }
}
