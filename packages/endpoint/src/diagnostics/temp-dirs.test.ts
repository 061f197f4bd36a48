import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makePrivateTempDir, removeStaleTempDirs } from './temp-dirs.js';

const parent = mkdtempSync(join(tmpdir(), 'opsctl-temp-dirs-test-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(child.stdout.trim());
}

describe('private temp directories', () => {
  it('are mode 0700 and named after this pid', async () => {
    const dir = await makePrivateTempDir(parent, 'snap-');
    expect(dir.path).toMatch(new RegExp(`/snap-${process.pid}-\\w+$`));
    expect(statSync(dir.path).mode & 0o777).toBe(0o700);
    await dir.remove();
    await dir.remove();
    expect(existsSync(dir.path)).toBe(false);
  });

  it('sweeps those of dead processes and earlier lives of this pid, never live ones or our own', async () => {
    const live = await makePrivateTempDir(parent, 'snap-');
    const dead = join(parent, `snap-${deadPid()}-abc123`);
    const previousLife = join(parent, `snap-${process.pid}-old999`);
    const otherLive = join(parent, `snap-${process.ppid}-xyz789`);
    const unrelated = join(parent, 'snapshot-notes');
    const otherPrefix = join(parent, `other-${deadPid()}-abc123`);
    for (const dir of [dead, previousLife, otherLive, unrelated, otherPrefix]) mkdirSync(dir);

    const removed = await removeStaleTempDirs(parent, 'snap-');
    expect(removed.sort()).toEqual([dead, previousLife].sort());
    expect(readdirSync(parent).sort()).toEqual([live.path, otherLive, unrelated, otherPrefix].map((dir) => basename(dir)).sort());
    await live.remove();
  });

  it('resolves with nothing when the directory cannot be read', async () => {
    expect(await removeStaleTempDirs(join(parent, 'missing'), 'snap-')).toEqual([]);
  });
});
