import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readMemoryLimit } from './memory-limit.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fake /proc/self/cgroup and cgroup mount built from a map of relative paths to contents. */
function fixture(cgroup: string, files: Record<string, string>) {
  const root = mkdtempSync(join(tmpdir(), 'opsctl-cgroup-'));
  dirs.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, 'fs', path)), { recursive: true });
    writeFileSync(join(root, 'fs', path), content);
  }
  writeFileSync(join(root, 'cgroup'), cgroup);
  return { procSelfCgroup: join(root, 'cgroup'), cgroupRoot: join(root, 'fs') };
}

describe('readMemoryLimit', () => {
  it('reads a cgroup v2 limit and counts usage as working set (minus inactive file cache)', () => {
    const limit = readMemoryLimit(
      null,
      fixture('0::/\n', {
        'memory.max': '536870912\n',
        'memory.current': '300000000\n',
        'memory.stat': 'anon 1\ninactive_file 100000000\nactive_file 5\n',
      }),
    );
    expect(limit).toEqual({ source: 'cgroup-v2', limitBytes: 536870912, usedBytes: 200000000, headroomBytes: 336870912 });
  });

  it('takes the tightest cgroup v2 limit on the way to the root', () => {
    const limit = readMemoryLimit(
      null,
      fixture('0::/kubepods/pod1/app\n', {
        'kubepods/memory.max': '8000000000',
        'kubepods/memory.current': '1000',
        'kubepods/pod1/memory.max': '1000000000',
        'kubepods/pod1/memory.current': '400000000',
        'kubepods/pod1/app/memory.max': 'max',
        'kubepods/pod1/app/memory.current': '300000000',
      }),
    );
    expect(limit.source).toBe('cgroup-v2');
    expect(limit.limitBytes).toBe(1000000000);
    expect(limit.usedBytes).toBe(400000000);
  });

  it('reads a cgroup v1 limit, and treats its huge "unlimited" value as no limit', () => {
    const limited = readMemoryLimit(
      null,
      fixture('4:memory:/docker/abc\n0::/\n', {
        'memory/memory.limit_in_bytes': '268435456',
        'memory/memory.usage_in_bytes': '100000000',
        'memory/memory.stat': 'total_inactive_file 1000000\n',
      }),
    );
    expect(limited).toMatchObject({ source: 'cgroup-v1', limitBytes: 268435456, usedBytes: 99000000 });
    const unlimited = readMemoryLimit(
      null,
      fixture('4:memory:/\n', {
        'memory/memory.limit_in_bytes': '9223372036854771712',
        'memory/memory.usage_in_bytes': '100000000',
      }),
    );
    expect(unlimited.source).toBe('system');
  });

  it('falls back to system memory when no cgroup limit is set', () => {
    const limit = readMemoryLimit(null, fixture('0::/\n', { 'memory.max': 'max\n', 'memory.current': '1' }));
    expect(limit.source).toBe('system');
    expect(limit.limitBytes).toBeGreaterThan(0);
    expect(limit.headroomBytes).toBeLessThanOrEqual(limit.limitBytes);
  });

  it("takes the application's configured limit, counted against RSS, when it is tighter", () => {
    const sources = fixture('0::/\n', { 'memory.max': '8000000000', 'memory.current': '100000000' });
    const rss = process.memoryUsage.rss();
    const configured = readMemoryLimit(rss + 10_000_000, sources);
    expect(configured.source).toBe('configured');
    expect(configured.headroomBytes).toBeLessThanOrEqual(10_000_000);
    expect(readMemoryLimit(100_000_000_000, sources).source).toBe('cgroup-v2');
  });

  it('reads this machine without throwing', () => {
    expect(readMemoryLimit().limitBytes).toBeGreaterThan(0);
  });
});
