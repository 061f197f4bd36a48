// Runs the CLI in-process with injected streams: what a command prints, on which
// stream, and its exit code, with or without a terminal; and takes real snapshots.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { main } from '../src/main.js';
import type { Input } from '../src/context.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  /** Both output streams and stdin claim to be terminals. */
  tty?: boolean;
  /** Text on stdin, then end of input. */
  stdin?: string;
  signal?: AbortSignal;
  /** The working directory the command sees (default: this process's). */
  cwd?: string;
  /** The terminal width both output streams report (default 100; a pty may report 0). */
  columns?: number;
}

class Capture {
  text = '';
  isTTY: boolean;
  columns: number;
  constructor(isTTY: boolean, columns = 100) {
    this.isTTY = isTTY;
    this.columns = columns;
  }
  write(chunk: string | Uint8Array): boolean {
    this.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }
  // ora calls these on its stream
  cursorTo(): boolean {
    return true;
  }
  moveCursor(): boolean {
    return true;
  }
  clearLine(): boolean {
    return true;
  }
  on(): this {
    return this;
  }
  once(): this {
    return this;
  }
  off(): this {
    return this;
  }
  removeListener(): this {
    return this;
  }
}

export async function runCli(argv: string[], options: RunOptions = {}): Promise<CliRun> {
  const stdout = new Capture(options.tty === true, options.columns);
  const stderr = new Capture(options.tty === true, options.columns);
  const stdin = new PassThrough() as PassThrough & Input;
  stdin.isTTY = options.tty === true;
  if (options.tty) stdin.setRawMode = () => stdin;
  if (options.stdin !== undefined) stdin.end(options.stdin);
  else if (!options.tty) stdin.end();
  const code = await main(argv, {
    streams: { stdin, stdout, stderr },
    env: { PATH: process.env['PATH'], ...options.env },
    cwd: options.cwd ?? process.cwd(),
    signal: options.signal ?? new AbortController().signal,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** A fresh, empty config directory; remove it with the returned function. */
export function tempConfigDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-config-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const SNAPSHOT_CHILD = fileURLToPath(new URL('../src/heapsnapshot/fixtures/snapshot-child.mjs', import.meta.url));

/** Real V8 snapshots from a child process running a scenario of src/heapsnapshot/fixtures/snapshot-child.mjs, in a temp directory. */
export async function takeSnapshots(scenario: string): Promise<{ files: string[]; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `opsctl-${scenario}-`));
  const { stdout } = await promisify(execFile)(process.execPath, [SNAPSHOT_CHILD, scenario, dir]);
  return { files: JSON.parse(stdout) as string[], remove: () => rm(dir, { recursive: true, force: true }) };
}
