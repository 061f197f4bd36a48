// Reading a file while another thread is still writing it: the heap snapshot V8 is
// serializing on the main thread, so that its bytes travel while the process is paused
// rather than after (measured on a 200 MB heap: V8 writes its first byte at ~80% of the
// pause, ~100 MB/s from there, then spends ~2 s freeing its graph before it returns).
//
// Safe because the writers only append (V8's file stream, and the write stream a
// worker's snapshot is piped into), into a file they create, and because Linux raises a
// file's size only once the bytes below it are in the page cache: what a read returns
// below the size it saw is final.
//
// The writer creates the file, not this side: Node opens it with O_TRUNC, and on ext4 a
// close after a truncating open of an existing file writes the whole file out there and
// then (auto_da_alloc), which held V8's write ~100 ms longer for 112 MB than the same
// snapshot into a new file. Created new, the file never reaches the disk at all: it is
// removed once sent.
import { constants as fs } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** Bytes read at a time at most: large reads, few calls; a few MiB in flight is nothing next to the snapshot's graph. */
const GROWING_READ_MAX_BYTES = 4 * 1024 * 1024;
/** How often to look for new bytes while the writer is at work. */
const GROWING_POLL_MS = 10;

/**
 * Opens `path` for reading once the writer has created it, and makes sure it is 0600
 * (Node's writeHeapSnapshot and the worker's write stream create it so; the directory
 * around it is private too); null when `finished` settles first: the writer failed
 * before it made the file.
 */
export async function openWhenCreated(path: string, finished: Promise<unknown>, signal: AbortSignal): Promise<FileHandle | null> {
  const writer = watch(finished);
  for (;;) {
    // Looked at before the open: a writer that has finished made the file then, or never.
    const writerDone = writer.done;
    try {
      const handle = await open(path, fs.O_RDONLY | fs.O_NOFOLLOW);
      await handle.chmod(0o600).catch(async (error: unknown) => {
        await handle.close();
        throw error;
      });
      return handle;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (writerDone) return null;
    await Promise.race([writer.settled, sleep(GROWING_POLL_MS, undefined, { signal })]);
  }
}

export interface GrowingFileRead {
  /** The chunks, in order, until the writer has finished and everything it wrote has been read. */
  chunks: AsyncGenerator<Buffer>;
  /** Bytes read so far. */
  readonly bytes: number;
}

/**
 * Reads `handle` from its start as it grows, until `finished` settles (either way) and
 * the file's end is reached. Each chunk is a buffer of its own, never reused.
 */
export function readGrowingFile(handle: FileHandle, finished: Promise<unknown>, signal: AbortSignal): GrowingFileRead {
  const writer = watch(finished);
  let position = 0;
  async function* chunks(): AsyncGenerator<Buffer> {
    for (;;) {
      // Looked at before the size: once the writer has finished, the size read after is final.
      const writerDone = writer.done;
      const { size } = await handle.stat();
      if (size > position) {
        const length = Math.min(size - position, GROWING_READ_MAX_BYTES);
        const buffer = Buffer.allocUnsafe(length);
        const { bytesRead } = await handle.read(buffer, 0, length, position);
        if (bytesRead === 0) throw new Error(`the snapshot file shrank below ${position} bytes while it was read`);
        position += bytesRead;
        yield bytesRead === length ? buffer : buffer.subarray(0, bytesRead);
      } else if (writerDone) {
        return;
      } else {
        await Promise.race([writer.settled, sleep(GROWING_POLL_MS, undefined, { signal })]);
      }
    }
  }
  return {
    chunks: chunks(),
    get bytes() {
      return position;
    },
  };
}

/** Whether `finished` has settled (either way), and a promise that never rejects for when it does. */
function watch(finished: Promise<unknown>): { readonly done: boolean; settled: Promise<void> } {
  const state = { done: false, settled: Promise.resolve() };
  const end = () => {
    state.done = true;
  };
  state.settled = finished.then(end, end);
  return state;
}
