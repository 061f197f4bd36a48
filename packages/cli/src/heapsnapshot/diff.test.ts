import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idsOfGroup, summarizeByClass } from './classes.js';
import { diffClassSummaries, diffHeapSnapshots } from './diff.js';
import { parseHeapSnapshot } from './parse.js';
import { findRetainedAllocations } from './retained.js';

const CHILD = fileURLToPath(new URL('./fixtures/snapshot-child.mjs', import.meta.url));
// The leak scenario keeps 3000 LeakyThing (~104 bytes each) between A and B, holds 2000
// TransientThing until B, then adds 1000 more LeakyThing and drops the transients before C.
const LEAKED_BY_B = 3000;
const TRANSIENT = 2000;
// What a process that leaks nothing may still gain between two snapshots: code compiled
// or optimised meanwhile, the snapshot file's name. Measured at ~12 objects and ~5 KiB.
const STEADY_MAX_COUNT = 500;
const STEADY_MAX_BYTES = 64 * 1024;

describe('heap diffs of real snapshots from a child process', () => {
  const dirs: string[] = [];
  const takeSnapshots = async (scenario: string): Promise<string[]> => {
    const dir = await mkdtemp(join(tmpdir(), 'opsctl-heapsnapshot-'));
    dirs.push(dir);
    const { stdout } = await promisify(execFile)(process.execPath, [CHILD, scenario, dir]);
    return JSON.parse(stdout) as string[];
  };
  let leak: string[] = [];
  let steady: string[] = [];

  beforeAll(async () => {
    [leak, steady] = await Promise.all([takeSnapshots('leak'), takeSnapshots('steady')]);
  });
  afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

  it('puts a leaking class first in a two-snapshot diff, with the objects it gained', async () => {
    const [a = '', b = ''] = leak;
    const diff = await diffHeapSnapshots(a, b);
    const [first] = diff.classes;
    expect(first).toMatchObject({ name: 'LeakyThing', countBefore: 0, countAfter: LEAKED_BY_B, countDelta: LEAKED_BY_B, added: LEAKED_BY_B, removed: 0 });
    expect(first?.sizeDelta).toBeGreaterThan(LEAKED_BY_B * 64);
    expect(diff.after.selfSize - diff.before.selfSize).toBeGreaterThan(first?.sizeDelta as number);
    expect(diff.classes.find((row) => row.name === 'TransientThing')?.countDelta).toBe(TRANSIENT);
  });

  it('ranks by count, limits and drops rows below a threshold on request', async () => {
    const [a = '', b = ''] = leak;
    const before = summarizeByClass(await parseHeapSnapshot(a));
    const after = summarizeByClass(await parseHeapSnapshot(b));
    const byCount = diffClassSummaries(before, after, { sortBy: 'count', limit: 2 });
    expect(byCount.classes.map((row) => row.name)).toEqual(['LeakyThing', 'TransientThing']);
    const big = diffClassSummaries(before, after, { threshold: 100_000 });
    expect(big.classes.map((row) => row.name)).toEqual(['LeakyThing']);
    const all = diffClassSummaries(before, after);
    expect(all.classes.every((row) => row.countDelta !== 0 || row.sizeDelta !== 0)).toBe(true);
    expect(all.classes.map((row) => row.sizeDelta)).toEqual(all.classes.map((row) => row.sizeDelta).sort((x, y) => y - x));
  });

  it('finds no class growing in a process that leaks nothing', async () => {
    const [a = '', b = ''] = steady;
    const diff = await diffHeapSnapshots(a, b);
    for (const row of diff.classes) {
      expect(row.countDelta, row.name).toBeLessThan(STEADY_MAX_COUNT);
      expect(row.sizeDelta, row.name).toBeLessThan(STEADY_MAX_BYTES);
    }
    expect(diff.classes.find((row) => row.name === 'SteadyThing')).toBeUndefined();
  });

  it('reports, from three snapshots, the objects allocated between A and B that are still alive in C', async () => {
    const [a = '', b = '', c = ''] = leak;
    const report = await findRetainedAllocations(a, b, c, { examples: 2 });
    const [first] = report.classes;
    expect(first?.name).toBe('LeakyThing');
    // Exactly the 3000 made between A and B: not the 1000 made after B.
    expect(first?.count).toBe(LEAKED_BY_B);
    expect(first?.examples).toHaveLength(2);
    expect(first?.examples[0]).toMatchObject({ name: 'LeakyThing', selfSize: expect.any(Number) as number });
    // Freed before C: not a leak.
    expect(report.classes.find((row) => row.name === 'TransientThing')).toBeUndefined();
    expect(report.total.count).toBeLessThan(LEAKED_BY_B + STEADY_MAX_COUNT);
  });

  it("gives each snapshot's newest object id, growing in the order taken, whichever way B is read", async () => {
    const [a = '', b = '', c = ''] = leak;
    // Without retainers B's ids stay in node order; with them B is parsed whole.
    for (const retainers of [false, true]) {
      const { newestIds } = await diffHeapSnapshots(a, b, { retainers });
      expect(newestIds.after, `retainers ${retainers}`).toBeGreaterThan(newestIds.before);
      expect(newestIds.before % 2).toBe(1);
    }
    const { newestIds } = await findRetainedAllocations(a, b, c, { retainers: false });
    expect(newestIds.b).toBeGreaterThan(newestIds.a);
    expect(newestIds.c).toBeGreaterThan(newestIds.b);
  });

  it('gives the ids behind a group, which the three-snapshot report agrees with', async () => {
    const [a = '', b = '', c = ''] = leak;
    const summary = summarizeByClass(await parseHeapSnapshot(b));
    const group = summary.groups.findIndex((candidate) => candidate.name === 'LeakyThing');
    const ids = idsOfGroup(summary, group);
    expect(ids).toHaveLength(LEAKED_BY_B);
    const report = await findRetainedAllocations(a, b, c, { examples: 5 });
    const examples = report.classes.find((row) => row.name === 'LeakyThing')?.examples ?? [];
    for (const example of examples) expect(ids).toContain(example.id);
  });
});
