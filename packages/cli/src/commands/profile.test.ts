import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEndpoint, type TestEndpoint } from '../../../endpoint/test-support/index.js';
import { runCli } from '../../test-support/index.js';
import { checkCpuProfile, checkHeapProfile } from './profile.js';

const work = mkdtempSync(join(tmpdir(), 'opsctl-cli-profile-'));
let ep: TestEndpoint;
let env: Record<string, string>;
beforeAll(async () => {
  ep = await startEndpoint({}, { perf: ['profile'], reader: ['read'] });
  env = { OPSCTL_URL: ep.url, OPSCTL_TOKEN: ep.tokens['perf'] ?? '' };
});
afterAll(async () => {
  await ep.close();
  rmSync(work, { recursive: true, force: true });
});

describe('opsctl profile', () => {
  it('counts down on a terminal and says where to open the file', async () => {
    const run = await runCli(['profile', 'cpu', '-d', '1s', '--out', `${work}/`], { env, tty: true });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/profiling CPU for 1s… 1s left \(Ctrl-C stops it\)/);
    expect(run.stdout.replace(/\u001b\[[0-9;]*m/g, '')).toMatch(
      /CPU profile written to .*\.cpuprofile \(.*, [\d,]+ samples over 1s\)\n {2}open it in Chrome DevTools: Performance panel/,
    );
    expect(readdirSync(work).filter((f) => f.endsWith('.cpuprofile'))).toHaveLength(1);
  });

  it('refuses to replace a file without --force', async () => {
    const path = join(work, 'taken.heapprofile');
    expect((await runCli(['profile', 'heap', '-d', '1s', '--out', path], { env })).code).toBe(0);
    const again = await runCli(['profile', 'heap', '-d', '1s', '--out', path], { env });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
  });
});

describe('a directory --out created', () => {
  it('is removed again when the command is cancelled and writes nothing', async () => {
    const controller = new AbortController();
    controller.abort('SIGINT');
    const run = await runCli(['profile', 'cpu', '-d', '20s', '--out', `${work}/cancelled/deeper/`], { env, signal: controller.signal });
    expect(run.code).toBe(130);
    expect(existsSync(join(work, 'cancelled'))).toBe(false);
  });

  it('is removed again when the endpoint refuses, but one that existed before is kept', async () => {
    const reader = { ...env, OPSCTL_TOKEN: ep.tokens['reader'] ?? '' };
    const refused = await runCli(['profile', 'cpu', '-d', '1s', '--out', `${work}/refused/`], { env: reader });
    expect(refused.code).toBe(3);
    expect(existsSync(join(work, 'refused'))).toBe(false);
    mkdirSync(join(work, 'existing'));
    expect((await runCli(['profile', 'cpu', '-d', '1s', '--out', `${work}/existing/`], { env: reader })).code).toBe(3);
    expect(existsSync(join(work, 'existing'))).toBe(true);
  });
});

describe('profile checks', () => {
  it('want the parts DevTools reads', () => {
    expect(checkCpuProfile({ nodes: [{}], startTime: 1, endTime: 2 })).toBeNull();
    expect(checkCpuProfile({ nodes: [], startTime: 1, endTime: 2 })).toMatch(/nodes/);
    expect(checkCpuProfile({ nodes: [{}] })).toMatch(/startTime/);
    expect(checkHeapProfile({ head: { children: [] } })).toBeNull();
    expect(checkHeapProfile({ samples: [] })).toMatch(/head/);
  });
});
