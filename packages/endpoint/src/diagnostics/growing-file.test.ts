import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWhenCreated, readGrowingFile } from './growing-file.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'opsctl-growing-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A writer that appends `pieces` one after another, `gapMs` apart, through a file handle of its own. */
async function appendSlowly(path: string, pieces: Buffer[], gapMs: number): Promise<void> {
  const writer = await open(path, 'w', 0o600);
  try {
    for (const piece of pieces) {
      await writer.write(piece);
      await sleep(gapMs);
    }
  } finally {
    await writer.close();
  }
}

describe('readGrowingFile', () => {
  it('reads a file as another writer appends to it, every byte once and in order, and ends when the writer has finished', async () => {
    const path = join(dir, 'growing');
    const reader = await open(path, constants.O_RDONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    const pieces = Array.from({ length: 20 }, (_, i) => randomBytes(50_000 + i * 1000));
    let writerDone = false;
    const writing = appendSlowly(path, pieces, 25).then(() => {
      writerDone = true;
    });
    const read = readGrowingFile(reader, writing, new AbortController().signal);
    const chunks: Buffer[] = [];
    let beforeWriterDone = 0;
    for await (const chunk of read.chunks) {
      chunks.push(chunk);
      if (!writerDone) beforeWriterDone += chunk.length;
    }
    await reader.close();
    expect(writerDone).toBe(true);
    expect(Buffer.concat(chunks).equals(Buffer.concat(pieces))).toBe(true);
    expect(read.bytes).toBe(Buffer.concat(pieces).length);
    // The bytes went out while the writer was still at work, not after.
    expect(beforeWriterDone).toBeGreaterThan(read.bytes / 2);
  });

  it('ends with what was written when the writer fails, and stops when aborted', async () => {
    const path = join(dir, 'failing');
    const reader = await open(path, constants.O_RDONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    const failing = appendSlowly(path, [Buffer.from('partial')], 10).then(() => Promise.reject(new Error('disk full')));
    failing.catch(() => {});
    const chunks: Buffer[] = [];
    for await (const chunk of readGrowingFile(reader, failing, new AbortController().signal).chunks) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString()).toBe('partial');

    const abort = new AbortController();
    const never = new Promise<void>(() => {});
    const waiting = readGrowingFile(reader, never, abort.signal).chunks;
    setTimeout(() => abort.abort(), 50);
    await expect(async () => {
      for await (const _ of waiting);
    }).rejects.toMatchObject({ name: 'AbortError' });
    await reader.close();
  });
});

describe('openWhenCreated', () => {
  it('opens the file once its writer has made it, and makes it 0600', async () => {
    const path = join(dir, 'made-later');
    // The writer makes it 60 ms later, and with another mode than 0600 (Node's own snapshot writer makes it 0600).
    const writing = sleep(60).then(async () => (await open(path, 'w', 0o644)).close());
    const handle = await openWhenCreated(path, writing, new AbortController().signal);
    expect(handle).not.toBeNull();
    await handle?.close();
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('gives null when the writer fails before it makes the file, and stops when aborted', async () => {
    const failing = sleep(30).then(() => Promise.reject(new Error('no such directory')));
    failing.catch(() => {});
    expect(await openWhenCreated(join(dir, 'never-made'), failing, new AbortController().signal)).toBeNull();
    const abort = new AbortController();
    const waiting = openWhenCreated(join(dir, 'never-either'), new Promise(() => {}), abort.signal);
    abort.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
  });
});
