// Real processes for end-to-end tests: the example application, and the built opsctl
// binary run as a user would run it.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const opsctlBin = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));
export const exampleApp = fileURLToPath(new URL('../../examples/plain-http/server.js', import.meta.url));

export interface RunningApp {
  child: ChildProcess;
  app: string;
  ops: string;
  pid: number;
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts a Node script that prints one JSON line `{ ready, app, ops?, pid }` when listening. */
export async function startApp(script: string, env: Record<string, string>, nodeArgs: string[] = [], scriptArgs: string[] = []): Promise<RunningApp> {
  const child = spawn(process.execPath, [...nodeArgs, script, ...scriptArgs], {
    env: { ...process.env, PORT: '0', OPSCTL_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const ready = await new Promise<{ app: string; ops: string; pid: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`app did not start in 15 s; stderr: ${stderr}`)), 15_000);
    child.once('exit', (code) => reject(new Error(`app exited with ${code}; stderr: ${stderr}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line));
    });
  });
  return {
    child,
    ...ready,
    stderr: () => stderr,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  };
}

export interface OpsctlRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built binary with `args`, the given environment and stdin, to its exit. */
export function opsctl(
  args: string[],
  options: { env?: Record<string, string | undefined>; stdin?: string; bin?: string; timeoutMs?: number; cwd?: string } = {},
): Promise<OpsctlRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.bin ?? opsctlBin, ...args], {
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...options.env },
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`opsctl ${args.join(' ')} did not finish in time; stderr: ${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

/** Mints a token with the built binary; returns it and its configuration line. */
export async function mintToken(name: string, scopes: string): Promise<{ token: string; line: string }> {
  const run = await opsctl(['token', 'new', '--name', name, '--scopes', scopes, '--json']);
  if (run.code !== 0) throw new Error(`token new failed: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

/** A TCP port free on loopback right now (for processes that must be told their port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A copy of the built CLI (its dist/ bundle and package.json) without `packages`: keytar
 * is linked in unless it is listed (as after a failed optional build); a bundled package
 * listed is taken out with every chunk that holds it (build/bundle-meta.json, written by
 * scripts/bundle-cli.mjs), to prove a command never loads it (it would fail with
 * ERR_MODULE_NOT_FOUND). Returns its bin and a function that removes it.
 */
export function cliCopyWithout(packages: string[]): { bin: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-cli-copy-'));
  const cli = join(repoRoot, 'packages/cli');
  cpSync(join(cli, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(cli, 'package.json'), join(dir, 'package.json'));
  const { packagesIn } = JSON.parse(readFileSync(join(cli, 'build/bundle-meta.json'), 'utf8')) as { packagesIn: Record<string, string[]> };
  const unknown = packages.filter((name) => name !== 'keytar' && !Object.values(packagesIn).some((held) => held.includes(name)));
  if (unknown.length > 0) throw new Error(`the bundle holds no ${unknown.join(', ')} (build/bundle-meta.json): nothing to take out`);
  for (const [file, held] of Object.entries(packagesIn)) {
    if (held.some((name) => packages.includes(name))) rmSync(join(dir, 'dist', file));
  }
  if (!packages.includes('keytar')) {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(join(cli, 'node_modules/keytar'), join(dir, 'node_modules/keytar'));
  }
  return { bin: join(dir, 'dist/bin.js'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const floodScript = fileURLToPath(new URL('../../scripts/bench/flood.mjs', import.meta.url));

/** Floods loopback `port` from a process of its own for `ms` (see scripts/bench/flood.mjs for the modes); resolves with its counts once it has exited. */
export function runFlood(port: number, mode: string, connections: number, ms: number): Promise<{ responses: number; connections: number }> {
  // A well-formed token (valid checksum) that no endpoint is configured with, for the badtoken mode.
  const unknownToken = 'opsctl_00000000000000000000000000000000000000000000ab';
  const child = spawn(process.execPath, [floodScript, String(port), mode, String(connections), String(ms), unknownToken], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  return new Promise((resolve, reject) => child.once('exit', () => (out ? resolve(JSON.parse(out)) : reject(new Error('the flood printed nothing')))));
}
