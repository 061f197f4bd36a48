// A writable stream into a file that writes in batches: the chunks it is given are
// gathered until they reach a batch, which goes to the file in one writev. A download
// arrives in the socket's 64 KiB reads; written one by one, each cost a trip through the
// thread pool and a system call, and the CLI's throughput, which decides how long
// `opsctl heapdump` runs on after V8 has finished, was bound by them (docs/benchmarks.md,
// issue 22 rows).
import { close, open, writev } from 'node:fs';
import { Writable } from 'node:stream';

/** Bytes gathered before a write. */
const BATCH_BYTES = 1024 * 1024;

export class BatchedFileStream extends Writable {
  readonly #path: string;
  readonly #mode: number;
  #fd: number | null = null;
  #chunks: Buffer[] = [];
  #bytes = 0;

  /** Creates or truncates `path` (with `mode` when it creates it). */
  constructor(path: string, mode: number) {
    // Backpressure once a batch is in flight and another is gathered.
    super({ highWaterMark: BATCH_BYTES });
    this.#path = path;
    this.#mode = mode;
  }

  override _construct(done: (error?: Error | null) => void): void {
    open(this.#path, 'w', this.#mode, (error, fd) => {
      if (error === null) this.#fd = fd;
      done(error);
    });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    // Kept, not copied: a stream's writer hands its chunks over and does not change them.
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    if (this.#bytes < BATCH_BYTES) return done();
    this.#flush(done);
  }

  override _final(done: (error?: Error | null) => void): void {
    this.#flush(done);
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    const fd = this.#fd;
    this.#fd = null;
    this.#chunks = [];
    if (fd === null) return done(error);
    close(fd, (closeError) => done(error ?? closeError));
  }

  #flush(done: (error?: Error | null) => void): void {
    const chunks = this.#chunks;
    this.#chunks = [];
    this.#bytes = 0;
    writeAll(this.#fd as number, chunks, done);
  }
}

/** Writes every byte of `chunks`: a short write (libuv returns what got written before an error) goes on with the rest, which then fails with the error. */
function writeAll(fd: number, chunks: Buffer[], done: (error?: Error | null) => void): void {
  if (chunks.length === 0) return done();
  writev(fd, chunks, (error, written) => {
    if (error !== null) return done(error);
    if (written === 0) return done(new Error('the file system took none of the bytes written'));
    let skip = written;
    let first = 0;
    while (first < chunks.length && skip >= (chunks[first] as Buffer).length) skip -= (chunks[first++] as Buffer).length;
    if (first === chunks.length) return done();
    writeAll(fd, [(chunks[first] as Buffer).subarray(skip), ...chunks.slice(first + 1)], done);
  });
}
