// The packages installed as docs/install.md tells a user to: both packed, the endpoint
// npm-installed into a fresh application directory and the CLI into a fresh global
// prefix, their dependencies from the registry; an ESM and a CommonJS application of a
// few lines each, reached with the installed `opsctl`. Needs `pnpm build` and the registry.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from './support/processes.js';
import { npm, packTarballs, userEnv } from './support/packages.js';

const INSTALL_TIMEOUT_MS = 300_000; // registry downloads and keytar's native build

const ESM_APP = `
import { createMaintenanceEndpoint } from '@opsctl/endpoint';
const orders = new Map([[1, 'teapot']]);
const ops = createMaintenanceEndpoint({ tokens: process.env.OPSCTL_TOKENS, port: 0, app: { name: 'esm-shop' }, repl: { context: { orders } } });
const { url } = await ops.listen();
console.log(JSON.stringify({ ready: true, app: '', ops: url, pid: process.pid }));
`;

const CJS_APP = `
const { createMaintenanceEndpoint } = require('@opsctl/endpoint');
const orders = new Map([[1, 'teapot']]);
const ops = createMaintenanceEndpoint({ tokens: process.env.OPSCTL_TOKENS, port: 0, app: { name: 'cjs-shop' }, repl: { context: { orders } } });
ops.listen().then(({ url }) => console.log(JSON.stringify({ ready: true, app: '', ops: url, pid: process.pid })));
`;

// Node 20.18 cannot require() an ES module; later Nodes can unless told not to. Telling
// them proves the CommonJS application loads the CommonJS build, as it must on 20.18.
const NO_REQUIRE_ESM = process.allowedNodeEnvironmentFlags.has('--no-experimental-require-module') ? ['--no-experimental-require-module'] : [];

let dir: string;
let appDir: string;
let prefix: string;
let home: string;
let admin: { token: string; line: string };

/** Runs the globally installed `opsctl` through PATH, as an operator's shell does. */
async function opsctl(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)('opsctl', args, {
      env: { ...userEnv([join(prefix, 'bin')]), HOME: home, XDG_CONFIG_HOME: join(home, '.config'), ...env },
      cwd: home,
      maxBuffer: 16 << 20,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'opsctl-install-'));
  appDir = join(dir, 'app');
  prefix = join(dir, 'global');
  home = join(dir, 'home');
  for (const path of [appDir, prefix, home, join(dir, 'tarballs')]) mkdirSync(path);
  const tarballs = await packTarballs(join(dir, 'tarballs'));
  writeFileSync(join(appDir, 'package.json'), `${JSON.stringify({ name: 'shop', version: '1.0.0', private: true }, null, 2)}\n`);
  writeFileSync(join(appDir, 'app.mjs'), ESM_APP);
  writeFileSync(join(appDir, 'app.cjs'), CJS_APP);
  // The two installs of docs/install.md, side by side.
  await Promise.all([npm(['install', tarballs.endpoint], appDir), npm(['install', '--global', '--prefix', prefix, tarballs.cli], dir)]);
  const minted = await opsctl(['token', 'new', '--name', 'sre', '--scopes', 'admin', '--json']);
  expect(minted.code, minted.stderr).toBe(0);
  admin = JSON.parse(minted.stdout);
}, INSTALL_TIMEOUT_MS);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the installed packages', () => {
  it('put opsctl on PATH with its version, and no @opsctl/endpoint beside it', async () => {
    const run = await opsctl(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(JSON.parse(readFileSync(join(prefix, 'lib/node_modules/opsctl/package.json'), 'utf8')).version);
    // The CLI carries the protocol it speaks (docs/install.md): nothing else was installed for it.
    expect(existsSync(join(prefix, 'lib/node_modules/@opsctl'))).toBe(false);
    expect(existsSync(join(prefix, 'lib/node_modules/opsctl/node_modules/@opsctl'))).toBe(false);
    // Its other packages are bundled into its dist/ (docs/install.md#how-the-cli-is-built).
    // (No node_modules at all when npm left the optional keytar out.)
    const modules = join(prefix, 'lib/node_modules/opsctl/node_modules');
    const installed = existsSync(modules) ? readdirSync(modules) : [];
    expect(installed.filter((name) => ['commander', 'undici', 'ora', 'chalk'].includes(name))).toEqual([]);
  });

  it('give the application the endpoint and nothing else (no runtime dependencies)', () => {
    expect(readdirSync(join(appDir, 'node_modules')).filter((name) => !name.startsWith('.'))).toEqual(['@opsctl']);
    expect(readdirSync(join(appDir, 'node_modules/@opsctl'))).toEqual(['endpoint']);
  });
});

describe.each([
  { kind: 'ESM', script: 'app.mjs', name: 'esm-shop', nodeArgs: [] as string[] },
  { kind: 'CommonJS', script: 'app.cjs', name: 'cjs-shop', nodeArgs: NO_REQUIRE_ESM },
])('an installed $kind application', ({ script, name, nodeArgs }) => {
  let app: RunningApp;
  let env: Record<string, string>;
  beforeAll(async () => {
    app = await startApp(join(appDir, script), { OPSCTL_TOKENS: admin.line }, nodeArgs);
    env = { OPSCTL_URL: app.ops, OPSCTL_TOKEN: admin.token };
  });
  afterAll(() => app?.stop());

  it('answers the installed opsctl status', async () => {
    const run = await opsctl(['status', '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    const status = JSON.parse(run.stdout);
    expect(JSON.stringify(status)).toContain(`"${name}"`);
    expect(JSON.stringify(status)).toContain(`"pid":${app.pid}`);
  });

  it('sends a heap snapshot to the installed opsctl heapdump', async () => {
    const out = join(dir, `${name}.heapsnapshot`);
    const run = await opsctl(['heapdump', '--out', out], env);
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(out, 'utf8').slice(0, 20)).toMatch(/^\{"snapshot":/);
  });

  it('evaluates the installed opsctl repl -e in the application', async () => {
    const run = await opsctl(['repl', '-e', 'orders.get(1)'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('teapot');
  });
});
