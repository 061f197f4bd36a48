import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { BatchedFileStream } from './batched-file-stream.js';

const dir = mkdtempSync(join(tmpdir(), 'opsctl-batched-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `count` chunks of `size` bytes, each of its own value, so a chunk lost, doubled or reordered shows. */
function chunks(count: number, size: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => Buffer.alloc(size, i % 251));
}

describe('BatchedFileStream', () => {
  it('writes every chunk in order, in batches and the rest at the end, into the file as it was made', async () => {
    for (const [count, size] of [
      [0, 1],
      [1, 10],
      [40, 65_536], // a download's socket reads: past two batches, and a partial one
      [3000, 1], // many tiny chunks in one batch
      [3, 3 * 1024 * 1024], // chunks bigger than a batch
      [40, 1024 * 1024], // past the bytes between two background syncs
    ] as const) {
      const path = join(dir, `out-${count}-${size}`);
      writeFileSync(path, '', { mode: 0o600 });
      const input = chunks(count, size);
      await pipeline(Readable.from(input), new BatchedFileStream(path));
      expect(readFileSync(path).equals(Buffer.concat(input))).toBe(true);
      expect(statSync(path).mode & 0o777).toBe(0o600);
    }
  });

  it('fails the pipeline with the file system error when the file cannot be opened or written', async () => {
    await expect(pipeline(Readable.from([Buffer.from('x')]), new BatchedFileStream(join(dir, 'no-such-file')))).rejects.toMatchObject({
      code: 'ENOENT',
    });
    // /dev/full takes the open and refuses every write with ENOSPC: the error reaches the pipeline, from a batch and from the end.
    for (const count of [40, 1]) {
      await expect(pipeline(Readable.from(chunks(count, 65_536)), new BatchedFileStream('/dev/full'))).rejects.toMatchObject({ code: 'ENOSPC' });
    }
  });

  it('stops cleanly when destroyed while a batch or a sync is under way, wherever that falls', async () => {
    // Aborted near where a background sync starts (every 16 MiB) and elsewhere: the pipeline
    // rejects with the abort, and nothing throws later (vitest fails a run on a stray error).
    for (const abortAtMiB of [1, 15.9, 16, 16.1, 17, 32.5, 33]) {
      const path = join(dir, `aborted-${abortAtMiB}`);
      writeFileSync(path, '', { mode: 0o600 });
      const abort = new AbortController();
      let sent = 0;
      async function* source() {
        for (let i = 0; i < 800; i++) {
          if (sent >= abortAtMiB * 1024 * 1024) abort.abort();
          sent += 65_536;
          yield Buffer.alloc(65_536, i % 251);
        }
      }
      await expect(pipeline(source(), new BatchedFileStream(path), { signal: abort.signal })).rejects.toMatchObject({ name: 'AbortError' });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
});
