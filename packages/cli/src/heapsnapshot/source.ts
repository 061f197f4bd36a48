// Feeds a snapshot's bytes to a scanner: from a file or any byte stream, gunzipped on the
// way when it starts with gzip's magic bytes (whatever the file is called), in chunks.
// A file is read into two buffers in turn, the next chunk read while the scanner reads
// the last: a stream's fresh 1 MiB buffer per chunk is garbage the collector frees late
// (tens of MB of RSS here), and the scanner keeps nothing of a chunk once it has read it.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { HeapSnapshotError, isHeapSnapshotError } from './errors.js';
import { SnapshotScanner, type ScanHandlers, type SnapshotCounts } from './scanner.js';

/** A file path, or the bytes themselves (a Readable, or any async iterable of chunks). */
export type SnapshotSource = string | AsyncIterable<Uint8Array>;

export interface ReadOptions {
  /** Bytes read at a time; bigger is faster up to a point. Default DEFAULT_CHUNK_BYTES. */
  chunkSize?: number;
}

// Past 1 MiB the per-chunk overhead is already lost in the scanning.
export const DEFAULT_CHUNK_BYTES = 1 << 20;
const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** Scans a whole snapshot; errors name the file when the source is a path. */
export async function scanSnapshot(source: SnapshotSource, handlers: ScanHandlers, options: ReadOptions = {}): Promise<SnapshotCounts> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_BYTES;
  const scanner = new SnapshotScanner(handlers);
  try {
    const bytes = typeof source === 'string' ? readFileChunks(source, chunkSize) : source;
    for await (const chunk of gunzipIfCompressed(bytes, chunkSize)) scanner.write(chunk);
    return scanner.end();
  } catch (error) {
    if (typeof source !== 'string' || !isHeapSnapshotError(error)) throw error;
    throw new HeapSnapshotError(error.code, `${source}: ${error.message}`, error.offset, { cause: error });
  }
}

/**
 * A file's bytes in chunks of up to `chunkSize`, in two buffers used in turn: each chunk
 * is valid until the next one is asked for.
 */
export async function* readFileChunks(path: string, chunkSize: number = DEFAULT_CHUNK_BYTES, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  // Non-blocking, then checked once open: a path swapped for a FIFO after the caller's
  // own check would otherwise block the open in libuv's pool, where no signal reaches it.
  const file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  if (!(await file.stat().catch(() => null))?.isFile()) {
    await file.close();
    throw new HeapSnapshotError('NOT_A_HEAPSNAPSHOT', 'the file is not a V8 heap snapshot: it is not a regular file (a FIFO, a device or a directory)', 0);
  }
  let current = Buffer.allocUnsafe(chunkSize);
  let next = Buffer.allocUnsafe(chunkSize);
  let reading = file.read(current, 0, chunkSize, null);
  try {
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await reading;
      if (bytesRead === 0) return;
      reading = file.read(next, 0, chunkSize, null);
      yield current.subarray(0, bytesRead);
      [current, next] = [next, current];
    }
  } finally {
    // A read may still be under way when the reader stops early.
    await reading.catch(() => {});
    await file.close();
  }
}

/** The chunks as they are, calling `onBytes` with the running total after each: for progress. */
export async function* countingBytes(chunks: AsyncIterable<Uint8Array>, onBytes: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  let read = 0;
  for await (const chunk of chunks) {
    read += chunk.length;
    onBytes(read);
    yield chunk;
  }
}

async function* gunzipIfCompressed(source: AsyncIterable<Uint8Array>, chunkSize: number): AsyncGenerator<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  try {
    // The magic is two bytes; a stream may deliver them one at a time.
    const head: Uint8Array[] = [];
    let headBytes = 0;
    while (headBytes < GZIP_MAGIC.length) {
      const next = await iterator.next();
      if (next.done === true) break;
      head.push(Buffer.from(next.value)); // a copy: the source may reuse its buffer for the next chunk
      headBytes += next.value.length;
    }
    const start = head.length === 1 ? (head[0] as Buffer) : Buffer.concat(head);
    const all = async function* (copy: boolean): AsyncGenerator<Uint8Array> {
      if (start.length > 0) yield start;
      // gunzip may still hold a chunk when the next is read: it gets copies.
      for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) yield copy ? Buffer.from(next.value) : next.value;
    };
    if (start[0] !== GZIP_MAGIC[0] || start[1] !== GZIP_MAGIC[1]) {
      yield* all(false);
      return;
    }
    const gunzip = createGunzip({ chunkSize });
    const feeding = pipeline(Readable.from(all(true)), gunzip);
    feeding.catch(() => {}); // a failure also reaches us through gunzip's iterator
    try {
      for await (const chunk of gunzip) yield chunk as Buffer;
      await feeding;
    } catch (error) {
      throw gzipError(error);
    }
  } finally {
    // Closes the file when the scanner gives up early.
    await iterator.return?.();
  }
}

function gzipError(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  if (code === 'Z_BUF_ERROR') {
    return new HeapSnapshotError('HEAPSNAPSHOT_TRUNCATED', 'the heap snapshot is truncated: the gzip stream ends early', null, { cause: error });
  }
  if (code === 'Z_DATA_ERROR') {
    return new HeapSnapshotError('HEAPSNAPSHOT_MALFORMED', 'the heap snapshot is malformed: the gzip data is corrupt', null, { cause: error });
  }
  return error;
}
