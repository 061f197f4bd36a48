import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify, stripVTControlCharacters } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, takeSnapshots } from '../../test-support/index.js';
import type { GrowthResult, RetainedResult } from '../operations/heap-diff.js';

const CHILD = fileURLToPath(new URL('../heapsnapshot/fixtures/snapshot-child.mjs', import.meta.url));
// The child's leak scenario: 3000 LeakyThing (~104 bytes each) kept between A and B, 2000
// TransientThing held until B, 1000 more LeakyThing and the transients dropped before C.
const LEAKED_BY_B = 3000;

/** The class names of a human table, top to bottom (the lines after the column titles, up to the first empty one). */
function tableNames(stdout: string): string[] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((line) => line.startsWith('class '));
  const end = lines.indexOf('', start);
  return lines
    .slice(start + 1, end === -1 ? undefined : end)
    .filter((line) => !line.startsWith('…'))
    .map((line) => line.split(/ {2,}/)[0] ?? '');
}

describe('opsctl heapdiff on real snapshots from a child process', () => {
  let dir = '';
  let a = '';
  let b = '';
  let c = '';
  let steadyA = '';
  let steadyB = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'opsctl-heapdiff-'));
    const take = async (scenario: string) => {
      const into = join(dir, scenario);
      await mkdir(into);
      const { stdout } = await promisify(execFile)(process.execPath, [CHILD, scenario, into]);
      return JSON.parse(stdout) as string[];
    };
    [[a = '', b = '', c = ''], [steadyA = '', steadyB = '']] = await Promise.all([take('leak'), take('steady')]);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  describe('with two snapshots', () => {
    it('lists the leaking class first, with its objects and bytes before, after and gained', async () => {
      const { code, stdout, stderr } = await runCli(['heapdiff', a, b]);
      expect(code).toBe(0);
      expect(stderr).toBe('');
      expect(tableNames(stdout)[0]).toBe('LeakyThing');
      expect(stdout).toMatch(/LeakyThing +0 → +3,000 \(\+3,000\) +0 B → +\d+(\.\d)? KB +\(\+\d+(\.\d)? KB\)/);
      expect(stdout).toContain(`${a} → ${b}`);
    });

    it('prints the report and the file names as one JSON document with --json', async () => {
      const { code, stdout, stderr } = await runCli(['heapdiff', a, b, '--json']);
      expect(code).toBe(0);
      expect(stderr).toBe('');
      const result = JSON.parse(stdout) as GrowthResult;
      expect(result).toMatchObject({ kind: 'growth', files: { a, b }, sort: 'size', limit: 20, minSize: 0 });
      expect(result.classes[0]).toMatchObject({ name: 'LeakyThing', countBefore: 0, countAfter: LEAKED_BY_B, countDelta: LEAKED_BY_B, added: LEAKED_BY_B });
      expect(result.classes.every((row) => row.sizeDelta > 0 || row.countDelta > 0)).toBe(true);
      expect(result.after.selfSize).toBeGreaterThan(result.before.selfSize);
    });

    it('sorts by count, limits the rows and says how many more there are', async () => {
      const byCount = JSON.parse((await runCli(['heapdiff', a, b, '--json', '--sort', 'count', '--limit', '2'])).stdout) as GrowthResult;
      expect(byCount.classes.map((row) => row.name)).toEqual(['LeakyThing', 'TransientThing']);
      expect(byCount.more).toBeGreaterThan(0);
      const bySize = JSON.parse((await runCli(['heapdiff', a, b, '--json'])).stdout) as GrowthResult;
      const sizes = bySize.classes.map((row) => row.sizeDelta);
      expect(sizes).toEqual([...sizes].sort((x, y) => y - x));

      const { stdout } = await runCli(['heapdiff', a, b, '--limit', '1']);
      expect(tableNames(stdout)).toEqual(['LeakyThing']);
      expect(stdout).toMatch(/… and \d+ more \(show them with --limit \d+\)/);
    });

    it('leaves out classes under --min-size, given in bytes or with a unit', async () => {
      const result = JSON.parse((await runCli(['heapdiff', a, b, '--json', '--min-size', '100KB'])).stdout) as GrowthResult;
      expect(result.minSize).toBe(100_000);
      expect(result.classes.map((row) => row.name)).toEqual(['LeakyThing']);
      expect((await runCli(['heapdiff', a, b, '--min-size', 'lots'])).code).toBe(2);
    });

    it('shows nothing above the threshold for a process that leaks nothing', async () => {
      const { code, stdout } = await runCli(['heapdiff', steadyA, steadyB, '--min-size', '64KB']);
      expect(code).toBe(0);
      expect(stdout).toMatch(/nothing grew by 64\.0 KB or more/);
      const result = JSON.parse((await runCli(['heapdiff', steadyA, steadyB, '--json'])).stdout) as GrowthResult;
      expect(result.classes.find((row) => row.name === 'SteadyThing')).toBeUndefined();
      expect(result.classes.every((row) => row.sizeDelta < 64 * 1024)).toBe(true);
    });

    it('reads gzipped snapshots', async () => {
      const gzipped = join(dir, 'b.heapsnapshot.gz');
      await writeFile(gzipped, gzipSync(await readFile(b), { level: 1 }));
      const result = JSON.parse((await runCli(['heapdiff', a, gzipped, '--json'])).stdout) as GrowthResult;
      expect(result.classes[0]).toMatchObject({ name: 'LeakyThing', countDelta: LEAKED_BY_B });
    });
  });

  describe('with three snapshots', () => {
    it('lists what was allocated between A and B and is still alive in C, the leak first, with example ids', async () => {
      const { code, stdout } = await runCli(['heapdiff', a, b, c]);
      expect(code).toBe(0);
      expect(tableNames(stdout)[0]).toBe('LeakyThing');
      expect(stdout).toMatch(/LeakyThing +3,000 +\d+ KB +[\d,]+ +[\d.]+ K?B +@\d+, @\d+, @\d+/);
      // Freed before C: not a leak. (Its constructor may still show on a retainer path: `TransientThing (Function)`.)
      expect(tableNames(stdout)).not.toContain('TransientThing');
      expect(stdout).not.toMatch(/^TransientThing: /m);
    });

    it('prints the three-snapshot report as JSON, with the ids of a few objects per class', async () => {
      const result = JSON.parse((await runCli(['heapdiff', a, b, c, '--json', '--min-size', '100KB'])).stdout) as RetainedResult;
      expect(result).toMatchObject({ kind: 'retained', files: { a, b, c }, more: 0 });
      expect(result.classes).toHaveLength(1);
      // Exactly the objects made between A and B: not the 1000 made after B.
      expect(result.classes[0]).toMatchObject({ name: 'LeakyThing', count: LEAKED_BY_B });
      expect(result.classes[0]?.examples).toHaveLength(3);
      expect(result.classes[0]?.examples[0]).toMatchObject({ id: expect.any(Number) as number, name: 'LeakyThing' });
      expect(result.total.count).toBeGreaterThanOrEqual(LEAKED_BY_B);
    });
  });

  describe('on a terminal and off it', () => {
    it('shows a spinner and colours on a terminal, and the same table as plain text in a pipe', async () => {
      const tty = await runCli(['heapdiff', a, b], { tty: true });
      const pipe = await runCli(['heapdiff', a, b]);
      expect(tty.code).toBe(0);
      expect(tty.stdout).toMatch(/\u001b\[/);
      expect(stripVTControlCharacters(tty.stdout)).toBe(pipe.stdout);
      expect(tty.stderr).toContain(`reading ${a}`);
      expect(pipe.stdout).not.toMatch(/\u001b\[/);
      expect(pipe.stderr).toBe('');
    });

    it('prints plain JSON and no spinner with --json on a terminal', async () => {
      const { stdout, stderr } = await runCli(['heapdiff', a, b, c, '--json'], { tty: true });
      expect(stderr).toBe('');
      expect((JSON.parse(stdout) as RetainedResult).classes[0]?.name).toBe('LeakyThing');
    });

    it('respects NO_COLOR on a terminal', async () => {
      const { stdout } = await runCli(['heapdiff', a, b], { tty: true, env: { NO_COLOR: '1' } });
      expect(stdout).not.toMatch(/\u001b\[/);
    });
  });

  describe('refusals', () => {
    /** One sentence naming the file, then one hint line; no stack. */
    const expectOneSentence = (stderr: string, file: string, hint: RegExp) => {
      const lines = stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^error: /);
      expect(lines[0]).toContain(file);
      expect(lines[1]).toMatch(/^hint: /);
      expect(lines[1]).toMatch(hint);
    };

    it('refuses a truncated snapshot with exit 1 and says to take it again', async () => {
      const truncated = join(dir, 'truncated.heapsnapshot');
      const bytes = await readFile(b);
      await writeFile(truncated, bytes.subarray(0, bytes.length >> 1));
      const { code, stdout, stderr } = await runCli(['heapdiff', a, truncated]);
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expectOneSentence(stderr, truncated, /opsctl heapdump --out/);
      expect(stderr).toMatch(/truncated/);
    });

    it('names the file at fault when a class diff reads both at once (A on a thread, B here)', async () => {
      const truncated = join(dir, 'truncated-class.heapsnapshot');
      await writeFile(truncated, (await readFile(a)).subarray(0, 50_000));
      for (const files of [
        [truncated, b],
        [a, truncated],
      ]) {
        const { code, stdout, stderr } = await runCli(['heapdiff', ...files, '--retainers', '0', '--force']);
        expect(code).toBe(1);
        expect(stdout).toBe('');
        expectOneSentence(stderr, truncated, /opsctl heapdump --out/);
        expect(stderr).toMatch(/truncated/);
      }
    });

    it('refuses a JSON file that is not a heap snapshot with exit 1', async () => {
      const other = join(dir, 'package.json');
      await writeFile(other, JSON.stringify({ name: 'not-a-snapshot', nodes: [1, 2, 3] }));
      const { code, stderr } = await runCli(['heapdiff', other, b, c]);
      expect(code).toBe(1);
      expectOneSentence(stderr, other, /heapdump|writeHeapSnapshot/);
    });

    it('refuses one file given twice (under any path) with exit 2, unless --force', async () => {
      const { code, stdout, stderr } = await runCli(['heapdiff', a, join(dirname(a), '.', basename(a)), '--retainers', '0']);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expectOneSentence(stderr, a, /taken some time apart/);
      expect(stderr).toMatch(/same file/);
      const forced = await runCli(['heapdiff', a, a, '--retainers', '0', '--force']);
      expect(forced.code).toBe(0);
      expect(forced.stdout).toMatch(/nothing grew/);
    });

    it('names a missing file, with exit 2', async () => {
      const missing = join(dir, 'missing.heapsnapshot');
      const { code, stdout, stderr } = await runCli(['heapdiff', a, b, missing]);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expectOneSentence(stderr, missing, /opsctl heapdump/);
    });

    it('refuses a directory, an unknown --sort, a --limit or --retainers that is not a whole number (from 1, from 0) with exit 2', async () => {
      expect((await runCli(['heapdiff', dir, b])).code).toBe(2);
      expect((await runCli(['heapdiff', a, b, '--sort', 'name'])).code).toBe(2);
      expect((await runCli(['heapdiff', a, b, '--limit', '0'])).code).toBe(2);
      expect((await runCli(['heapdiff', a, b, '--retainers', '-1'])).code).toBe(2);
      expect((await runCli(['heapdiff', a])).code).toBe(2);
    });
  });
});

describe('opsctl heapdiff: who holds what grows', () => {
  // Two leaks behind different holders (fixtures/snapshot-child.mjs, holders): records
  // with text on the module-level array leakedRecords, texts in the Map sessionsById that
  // only a closure holds; and a linked list from chainHead.
  let files: string[] = [];
  let remove = async () => {};
  beforeAll(async () => ({ files, remove } = await takeSnapshots('holders')));
  afterAll(() => remove());

  it("prints each leak's path from a root with its variable, and what the holder retains", async () => {
    const [a = '', b = '', c = ''] = files;
    const { code, stdout, stderr } = await runCli(['heapdiff', a, b, c]);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(tableNames(stdout).slice(0, 2).sort()).toEqual(['LeakRecord', 'Map']);
    expect(stdout).toMatch(/system \/ Context → leakedRecords \(Array\) → \[\d+\] → LeakRecord\n +holder: leakedRecords \(Array @\d+\), retains [\d.]+ KB/);
    expect(stdout).toMatch(/system \/ Context → sessionsById \(Map\)\n +holder: sessionsById \(Map @\d+\), retains [\d.]+ KB/);
    // A linked list is one path, its repeated link printed once.
    expect(stdout).toMatch(/chainHead \(ChainLink\) → next \(ChainLink\) ×\d+/);
  });

  it('gives the paths step by step in --json, and none with --retainers 0', async () => {
    const [a = '', b = '', c = ''] = files;
    const result = JSON.parse((await runCli(['heapdiff', a, b, c, '--json'])).stdout) as RetainedResult;
    const records = result.classes.find((row) => row.name === 'LeakRecord');
    expect(records?.retainers[0]?.holder).toMatchObject({ class: 'Array', edge: 'leakedRecords', retainedSize: expect.any(Number) as number });
    expect(records?.retainers[0]?.path).toContainEqual({
      edge: 'leakedRecords',
      edgeType: 'context',
      id: records?.retainers[0]?.holder?.id,
      class: 'Array',
      name: 'Array',
      times: 1,
    });
    expect(result.ownersCounted).toBe(true);
    const off = await runCli(['heapdiff', a, b, c, '--retainers', '0']);
    expect(off.stdout).not.toContain('who holds them');
    // Nothing was charged to owners without the edges: no zero-filled columns claiming so.
    expect(off.stdout).not.toMatch(/they own|owned size|counts with the object that owns it/);
    expect(off.stdout).toMatch(/LeakRecord/);
    const offJson = JSON.parse((await runCli(['heapdiff', a, b, c, '--retainers', '0', '--json'])).stdout) as RetainedResult;
    expect(offJson.ownersCounted).toBe(false);
    expect(offJson.classes.every((row) => row.retainers.length === 0)).toBe(true);
  });

  it('explains the objects new in B under a two-snapshot diff', async () => {
    const [a = '', b = ''] = files;
    const { stdout } = await runCli(['heapdiff', a, b, '--retainers', '2']);
    expect(stdout).toMatch(/new in .*b\.heapsnapshot: [\d,]+ objects/);
    expect(stdout).toMatch(/holder: leakedRecords \(Array @\d+\)/);
    const result = JSON.parse((await runCli(['heapdiff', a, b, '--retainers', '2', '--json'])).stdout) as GrowthResult;
    expect(result.newObjects?.classes.map((row) => row.name).sort()).toEqual(['LeakRecord', 'Map']);
    expect((JSON.parse((await runCli(['heapdiff', a, b, '--retainers', '0', '--json'])).stdout) as GrowthResult).newObjects).toBeNull();
  });
});
