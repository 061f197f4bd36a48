import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readClassSummary } from './census.js';
import { isHeapSnapshotError } from './errors.js';
import { readClassSummaryOnThread } from './thread-read.js';

describe('reading a class census on a thread of its own', () => {
  let dir = '';
  let file = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'opsctl-thread-read-'));
    file = join(dir, 'a.heapsnapshot');
    await promisify(execFile)(process.execPath, [
      '-e',
      'globalThis.kept = Array.from({ length: 5000 }, (_, i) => ({ i })); require("v8").writeHeapSnapshot(process.argv[1])',
      file,
    ]);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('gives what reading it here gives, ids ascending, and reports its progress to the last byte', async () => {
    const progress: number[] = [];
    const onThread = await readClassSummaryOnThread(file, { onProgress: (bytes) => progress.push(bytes) });
    const here = await readClassSummary(file);
    expect(onThread.groups).toEqual(here.groups);
    expect(Array.from(onThread.ids)).toEqual(Array.from(here.ids));
    expect(Array.from(onThread.groupOf)).toEqual(Array.from(here.groupOf));
    expect(onThread.groups.find((group) => group.name === 'Object')?.count).toBeGreaterThanOrEqual(5000);
    expect(progress.at(-1)).toBe((await stat(file)).size);
  });

  it('rejects with the HeapSnapshotError the file deserves, code and offset kept', async () => {
    const cut = join(dir, 'cut.heapsnapshot');
    await writeFile(cut, (await readFile(file)).subarray(0, 100_000));
    const error = await readClassSummaryOnThread(cut).catch((caught: unknown) => caught);
    expect(isHeapSnapshotError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'HEAPSNAPSHOT_TRUNCATED', offset: 100_000 });
  });

  it('rejects with the I/O error of a file it cannot open, code and syscall kept', async () => {
    const error = await readClassSummaryOnThread(join(dir, 'missing.heapsnapshot')).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ENOENT', syscall: 'open' });
  });

  it('stops when asked, rejecting with the reason', async () => {
    const stop = new AbortController();
    const reading = readClassSummaryOnThread(file, { signal: stop.signal });
    stop.abort(new Error('stopped by the test'));
    await expect(reading).rejects.toThrow('stopped by the test');
    const already = AbortSignal.abort(new Error('stopped before'));
    await expect(readClassSummaryOnThread(file, { signal: already })).rejects.toThrow('stopped before');
  });
});
