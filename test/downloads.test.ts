// Where downloads go and what is left when they fail, with the built binary against a
// real application: --out is optional, a directory ending in / is created, a full
// disk is reported as such (not as a lost process), and the temp files of an opsctl
// killed mid-download are swept by the next one, and only those.
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../packages/endpoint/test-support/index.js';
import { downloadTempName } from '../packages/cli/src/files-sweep.js';
import { mintToken, opsctl, opsctlBin, startApp, type RunningApp } from './support/processes.js';

const heapApp = fileURLToPath(new URL('./fixtures/heap-app.mjs', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'opsctl-e2e-downloads-'));
let small: RunningApp;
let big: RunningApp;
let env: Record<string, string>;
let bigEnv: Record<string, string>;

beforeAll(async () => {
  const token = await mintToken('sre', 'admin');
  [small, big] = await Promise.all([
    startApp(heapApp, { OPSCTL_TOKENS: token.line, HEAP_MB: '4' }),
    startApp(heapApp, { OPSCTL_TOKENS: token.line, HEAP_MB: '60' }),
  ]);
  env = { OPSCTL_URL: small.ops, OPSCTL_TOKEN: token.token };
  bigEnv = { OPSCTL_URL: big.ops, OPSCTL_TOKEN: token.token };
});
afterAll(async () => {
  await Promise.all([small?.stop(), big?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

function fresh(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  return dir;
}

const temps = (dir: string) => readdirSync(dir).filter((name) => name.startsWith('.opsctl-tmp-'));

describe('--out', () => {
  it('creates a missing directory given with a trailing slash, as the Quick start does', async () => {
    const cwd = fresh('quick-start');
    const run = await opsctl(['heapdump', '--out', './dumps/'], { env, cwd });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const files = readdirSync(join(cwd, 'dumps'));
    expect(files).toEqual([expect.stringMatching(new RegExp(`^heap-app-.+-${small.pid}-\\d{8}T\\d{6}Z\\.heapsnapshot$`))]);
    // The directory holds snapshots, so every secret of the process: its owner's only.
    expect(statSync(join(cwd, 'dumps')).mode & 0o777).toBe(0o700);
  });

  it("is optional: the endpoint's name in the current directory", async () => {
    const cwd = fresh('no-out');
    expect((await opsctl(['heapdump'], { env, cwd })).code).toBe(0);
    expect((await opsctl(['profile', 'heap', '--duration', '1s'], { env, cwd })).code).toBe(0);
    expect((await opsctl(['report'], { env, cwd })).code).toBe(0);
    const names = readdirSync(cwd);
    expect(names).toHaveLength(3);
    for (const name of [/^heap-app-.+\.heapsnapshot$/, /^heap-app-.+\.heapprofile$/, /^report-.+\.json$/])
      expect(names).toContainEqual(expect.stringMatching(name));
  });

  it('still refuses a file in a missing directory, and says how to create it', async () => {
    const cwd = fresh('missing-parent');
    const run = await opsctl(['heapdump', '--out', 'nope/dump.heapsnapshot'], { env, cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/the directory .*nope does not exist/);
    expect(run.stderr).toMatch(/end --out with \/ to create a directory \(--out nope\/dump\.heapsnapshot\/\), or create it: mkdir -p/);
  });
});

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('skipping the disk-full test: mounting a small tmpfs needs root');

describe.skipIf(!isRoot)('a full local disk', () => {
  it('is reported as no space left on device, not as a lost process, and leaves nothing', async () => {
    const dir = fresh('full-disk');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
    try {
      const run = await opsctl(['heapdump', '--out', `${dir}/`], { env });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^error: cannot write to .*full-disk: no space left on device; no file was written$/m);
      expect(run.stderr).not.toMatch(/may have exited|connection/);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      execFileSync('umount', [dir]);
    }
  });
});

describe('temp files of an opsctl killed mid-download', () => {
  it('are swept by the next download into that directory, which says so', async () => {
    const dir = fresh('killed');
    const child = spawn(process.execPath, [opsctlBin, 'heapdump', '--out', `${dir}/`], { env: { PATH: process.env['PATH'], ...bigEnv }, stdio: 'ignore' });
    await waitFor(() => temps(dir).length > 0, 20_000);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(temps(dir)).toHaveLength(1);

    const next = await opsctl(['heapdump', '--out', `${dir}/`], { env });
    expect(next.code).toBe(0);
    expect(next.stderr).toMatch(/^removed 1 partial download \(.*\) that an interrupted opsctl left in /m);
    expect(temps(dir)).toEqual([]);
  });

  it("are the only ones swept: not a running opsctl's, another machine's, a young one of an older opsctl, or a link", async () => {
    const dir = fresh('sweep-safely');
    const running = downloadTempName(process.pid); // this test process stands in for a running opsctl
    const dead = downloadTempName(2 ** 22 + 12_345); // above the largest pid Linux gives (PID_MAX_LIMIT): no such process
    const otherMachine = `.opsctl-tmp-00000000-${2 ** 22 + 1}-abcdef`;
    const oldLegacy = '.opsctl-tmp-0123456789ab';
    const youngLegacy = '.opsctl-tmp-ba9876543210';
    const link = downloadTempName(2 ** 22 + 777);
    for (const name of [running, dead, otherMachine, oldLegacy, youngLegacy]) writeFileSync(join(dir, name), 'secret');
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    utimesSync(join(dir, oldLegacy), twoDaysAgo, twoDaysAgo);
    const target = join(fresh('sweep-link-target'), 'keep-me');
    writeFileSync(target, 'not a temp file');
    symlinkSync(target, join(dir, link));

    const run = await opsctl(['heapdump', '--out', `${dir}/`], { env });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^removed 2 partial downloads /m);
    expect(temps(dir).sort()).toEqual([running, otherMachine, youngLegacy, link].sort());
    expect(existsSync(target)).toBe(true);
  });
});
