import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileChunks } from './source.js';

describe('readFileChunks', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'opsctl-source-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const first = (path: string) => readFileChunks(path)[Symbol.asyncIterator]().next();

  it.runIf(process.platform !== 'win32')('refuses a FIFO at once instead of blocking on it (a path swapped after a check)', async () => {
    const fifo = join(dir, 'swapped.heapsnapshot');
    await promisify(execFile)('mkfifo', [fifo]);
    // No writer ever opens it: a blocking open would never return.
    await expect(first(fifo)).rejects.toMatchObject({ code: 'NOT_A_HEAPSNAPSHOT', message: expect.stringMatching(/not a regular file/) as string });
  });

  it('refuses a directory the same way', async () => {
    await expect(first(dir)).rejects.toMatchObject({ code: 'NOT_A_HEAPSNAPSHOT' });
  });
});
