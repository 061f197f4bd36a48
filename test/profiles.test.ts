// opsctl profile cpu|heap and opsctl report with the built binary against a real application.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../packages/endpoint/test-support/index.js';
import { mintToken, opsctl, opsctlBin, startApp, type RunningApp } from './support/processes.js';

const opsApp = fileURLToPath(new URL('./fixtures/ops-app.mjs', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'opsctl-e2e-profiles-'));
let app: RunningApp;
let env: Record<string, string>;
let readerEnv: Record<string, string>;
let tokenLine: string;

beforeAll(async () => {
  const [profiler, reader] = await Promise.all([mintToken('perf', 'profile'), mintToken('viewer', 'read')]);
  tokenLine = profiler.line;
  app = await startApp(opsApp, { OPSCTL_TOKENS: `${profiler.line};${reader.line}` });
  env = { OPSCTL_URL: app.ops, OPSCTL_TOKEN: profiler.token };
  readerEnv = { OPSCTL_URL: app.ops, OPSCTL_TOKEN: reader.token };
});
afterAll(async () => {
  await app?.stop();
  rmSync(work, { recursive: true, force: true });
});

function outDir(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

const leftovers = (dir: string) => readdirSync(dir).filter((f) => f.includes('opsctl-tmp'));

describe('opsctl profile', () => {
  it('writes a CPU profile for DevTools, named after the app, host and pid', async () => {
    const dir = outDir('cpu');
    const run = await opsctl(['profile', 'cpu', '--duration', '2s', '--out', `${dir}/`, '--json'], { env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ kind: 'cpu', seconds: 2, instance: expect.stringContaining(`pid=${app.pid}`) });
    expect(result.path).toMatch(new RegExp(`/ops-app-.+-${app.pid}-\\d{8}T\\d{6}Z\\.cpuprofile$`));
    const profile = JSON.parse(readFileSync(result.path, 'utf8'));
    expect(profile.nodes.length).toBeGreaterThan(0);
    expect(profile.endTime - profile.startTime).toBeGreaterThanOrEqual(1_900_000); // microseconds
    expect(profile.samples.length).toBe(result.samples);
    expect(leftovers(dir)).toEqual([]);
  });

  it('writes a sampling heap profile to the file given', async () => {
    const path = join(outDir('heap'), 'allocations.heapprofile');
    const run = await opsctl(['profile', 'heap', '-d', '1s', '--interval', '1024', '--out', path], { env });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Heap profile written to .*allocations\.heapprofile/);
    expect(run.stdout).toMatch(/Memory panel/);
    expect(JSON.parse(readFileSync(path, 'utf8')).head.callFrame.functionName).toBe('(root)');
  });

  it('refuses a duration over the cap, zero or not a number with exit 2, and writes nothing', async () => {
    const dir = outDir('bad-durations');
    const over = await opsctl(['profile', 'cpu', '--duration', '301s', '--out', `${dir}/`], { env });
    expect(over.code).toBe(2);
    expect(over.stderr).toMatch(/^error: option '-d, --duration <duration>' argument '301s' is invalid\. give a duration from 1s to 5m\.$/m);
    for (const duration of ['0s', '-3s', 'soon', '10']) {
      const run = await opsctl(['profile', 'heap', '--duration', duration, '--out', `${dir}/`], { env });
      expect(run.code, duration).toBe(2);
      expect(run.stderr).toMatch(/--duration/);
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a second profile while one runs, with a retry hint; the first completes', async () => {
    const dir = outDir('busy');
    const first = opsctl(['profile', 'cpu', '--duration', '5s', '--out', join(dir, 'first.cpuprofile')], { env });
    // The CLI opens its temp file once the response head arrives: the profile is running.
    await waitFor(() => leftovers(dir).length > 0, 10_000);
    const second = await opsctl(['profile', 'heap', '--duration', '1s', '--out', join(dir, 'second.heapprofile')], { env });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/^error: a profile is already running; one at a time$/m);
    expect(second.stderr).toMatch(/^hint: try again in 10s$/m);
    expect((await first).code).toBe(0);
    expect(readdirSync(dir)).toEqual(['first.cpuprofile']);
  });

  it('stops the profile on Ctrl-C, writes nothing, and frees the endpoint for the next one at once', async () => {
    const dir = outDir('interrupted');
    const child = spawn(process.execPath, [opsctlBin, 'profile', 'cpu', '--duration', '120s', '--out', join(dir, 'long.cpuprofile')], {
      env: { PATH: process.env['PATH'], ...env },
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    await waitFor(() => leftovers(dir).length > 0, 10_000);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(130);
    expect(stderr).toMatch(/cancelled; no file was written/);
    expect(readdirSync(dir)).toEqual([]);
    const next = await opsctl(['profile', 'heap', '--duration', '1s', '--out', join(dir, 'next.heapprofile')], { env });
    expect(next.stderr).toBe('');
    expect(next.code).toBe(0);
    expect(existsSync(join(dir, 'long.cpuprofile'))).toBe(false);
  });

  it('needs the profile scope: exit 3', async () => {
    const run = await opsctl(['profile', 'cpu', '--duration', '1s', '--out', `${outDir('scope')}/`], { env: readerEnv });
    expect(run.code).toBe(3);
  });
});

describe('opsctl report', () => {
  it('writes the diagnostic report without network lookups and with environment values redacted', async () => {
    const dir = outDir('report');
    const run = await opsctl(['report', '--out', `${dir}/`, '--json'], { env });
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ pid: app.pid, node: process.version });
    const text = readFileSync(result.path, 'utf8');
    const report = JSON.parse(text);
    expect(report.header.processId).toBe(app.pid);
    expect(report.environmentVariables['OPSCTL_TOKENS']).toBe('[redacted by opsctl]');
    expect(text).not.toContain(tokenLine.split(':')[1]);
    expect(report.header.networkInterfaces).toBeUndefined();
    // This request's connection is a handle of the endpoint's own thread, whose report is among the workers'.
    const handles = [...report.libuv, ...report.workers.flatMap((worker: { libuv: unknown[] }) => worker.libuv)];
    const peers = handles.filter((h: { type: string; remoteEndpoint?: unknown }) => h.type === 'tcp' && h.remoteEndpoint);
    expect(peers.length).toBeGreaterThan(0); // at least this request's connection
    for (const { remoteEndpoint } of peers) expect(remoteEndpoint.host).toBe(remoteEndpoint.ip4 ?? remoteEndpoint.ip6);
  });
});
