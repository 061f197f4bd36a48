// A writable stream into a file that writes in batches: the chunks it is given are
// gathered until they reach a batch, which goes to the file in one writev. A download
// arrives in the socket's 64 KiB reads; written one by one, each cost a trip through the
// thread pool and a system call, and the CLI's throughput, which decides how long
// `opsctl heapdump` runs on after V8 has finished, was bound by them (docs/benchmarks.md,
// issue 22 rows).
//
// It also starts the file's way to disk as it goes: every SYNC_BYTES, an fdatasync
// while the download goes on, so the fsync before the rename (AtomicFile.commit) has
// only the last part left to write. And it opens the file without truncating it (the
// caller made it empty): on ext4, a close after a truncating open writes the whole file
// out there and then (auto_da_alloc), which took ~100 ms for 112 MB once V8 had finished.
import { close, fdatasync, open, writev } from 'node:fs';
import { Writable } from 'node:stream';

/** Bytes gathered before a write. */
const BATCH_BYTES = 1024 * 1024;
/** Chunks gathered before a write, at most: what one writev takes (IOV_MAX on Linux). */
const BATCH_CHUNKS = 1024;
/** Bytes written between two fdatasyncs started in the background. */
const SYNC_BYTES = 16 * 1024 * 1024;

export class BatchedFileStream extends Writable {
  readonly #path: string;
  #fd: number | null = null;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #unsynced = 0;
  /** The batch being written, which settles with its error or null; null when none is. */
  #writing: Promise<Error | null> | null = null;
  /** The fdatasync under way, likewise. */
  #syncing: Promise<Error | null> | null = null;

  /** Writes into `path` from its start, which must exist and be empty (AtomicFile.create made it, with its mode). */
  constructor(path: string) {
    // Backpressure once a batch is in flight and another is gathered.
    super({ highWaterMark: BATCH_BYTES });
    this.#path = path;
  }

  override _construct(done: (error?: Error | null) => void): void {
    open(this.#path, 'r+', (error, fd) => {
      if (error === null) this.#fd = fd;
      done(error);
    });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    // Kept, not copied: a stream's writer hands its chunks over and does not change them.
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    // A batch is also as many chunks as one writev takes: tiny chunks do not pile up by the million.
    if (this.#bytes < BATCH_BYTES && this.#chunks.length < BATCH_CHUNKS) return done();
    this.#flush(done);
  }

  override _final(done: (error?: Error | null) => void): void {
    // The last batch, then the sync under way: its error is this stream's.
    this.#flush((error) => {
      if (error) return done(error);
      if (this.#syncing === null) return done();
      this.#syncing.then(done);
    });
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    const fd = this.#fd;
    this.#fd = null;
    this.#chunks = [];
    if (fd === null) return done(error);
    // Closed once the write and the sync under way have settled: never an fd number that another open may have taken meanwhile.
    Promise.all([this.#writing, this.#syncing]).then(() => close(fd, (closeError) => done(error ?? closeError)));
  }

  #flush(done: (error?: Error | null) => void): void {
    const fd = this.#fd;
    const chunks = this.#chunks;
    this.#unsynced += this.#bytes;
    this.#chunks = [];
    this.#bytes = 0;
    if (fd === null) return done(); // destroyed meanwhile: nothing more goes to the file
    const writing = new Promise<Error | null>((settle) => writeAll(fd, chunks, () => this.destroyed, settle));
    this.#writing = writing;
    writing.then((error) => {
      this.#writing = null;
      if (error !== null) return done(error);
      this.#startSync();
      done();
    });
  }

  /** An fdatasync in the background once SYNC_BYTES are written since the last, one at a time; a failure fails the stream. */
  #startSync(): void {
    const fd = this.#fd;
    if (fd === null || this.destroyed || this.#unsynced < SYNC_BYTES || this.#syncing !== null) return;
    this.#unsynced = 0;
    this.#syncing = new Promise<Error | null>((settle) => fdatasync(fd, settle)).then((error) => {
      this.#syncing = null;
      if (error !== null) this.destroy(error);
      return error;
    });
  }
}

/**
 * Writes every byte of `chunks`, then `done(null)` or `done(error)`: a short write (libuv
 * returns what got written before an error) goes on with the rest, which then fails with
 * the error, unless `stopped()` says the stream is gone.
 */
function writeAll(fd: number, chunks: Buffer[], stopped: () => boolean, done: (error: Error | null) => void): void {
  if (chunks.length === 0) return done(null);
  writev(fd, chunks, (error, written) => {
    if (error !== null) return done(error);
    if (written === 0) return done(Object.assign(new Error('the file system took none of the bytes written'), { code: 'EIO' }));
    let skip = written;
    let first = 0;
    while (first < chunks.length && skip >= (chunks[first] as Buffer).length) skip -= (chunks[first++] as Buffer).length;
    if (first === chunks.length || stopped()) return done(null);
    writeAll(fd, [(chunks[first] as Buffer).subarray(skip), ...chunks.slice(first + 1)], stopped, done);
  });
}
