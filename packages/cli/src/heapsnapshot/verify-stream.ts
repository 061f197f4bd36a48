// Verifying a snapshot while it downloads: its bytes pass through unchanged on their way
// to the file and the scanner reads them as they go, so no second pass over the written
// file is needed. The verdict is asked for only once the stream has ended and the
// endpoint has said how it ended: a late error in its trailer explains a short body
// better than "truncated" does.
//
// It checks that the snapshot is complete and whole: the header; every node row, their
// count and their edge counts against the header's; that the edges array holds nothing
// but as many numbers as the header says; every string; and the end. The edges (over
// half the bytes) are counted, not read edge by edge (skip.ts, FlatArrayCounter): a cut,
// a hole of zeros, a number missing, or bytes lost or sent twice that change the count is
// found; a number changed into another is not (opsctl snapshots get, and heapdiff's
// retainer paths, read every edge). The count, and the pass over the strings, run in
// WebAssembly SIMD (scan-simd.wat): the check's speed sets how far the CLI falls behind
// V8's writer, and so the wait once V8 has finished (docs/benchmarks.md, issue 22 rows).
import { Transform, type TransformCallback } from 'node:stream';
import { createGunzip, type Gunzip } from 'node:zlib';
import { SnapshotScanner, type SnapshotCounts } from './scanner.js';

export interface VerifyOptions {
  /** The bytes are gzip: they pass as they are (to be stored compressed), and are gunzipped for the scanner only. */
  compressed?: boolean;
  /** zlib's output chunk size, when compressed. */
  chunkSize?: number;
}

export class VerifyingStream extends Transform {
  /** Time spent scanning so far, in ms (it overlaps the download). */
  scanMs = 0;
  readonly #scanner = new SnapshotScanner({ edges: () => 'count' });
  readonly #gunzip: Gunzip | null;

  constructor(options: VerifyOptions = {}) {
    super();
    if (options.compressed !== true) {
      this.#gunzip = null;
      return;
    }
    const gunzip = createGunzip(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize });
    gunzip.on('data', (chunk: Buffer) => {
      try {
        this.#scan(chunk);
      } catch (error) {
        gunzip.destroy();
        this.destroy(error as Error);
      }
    });
    gunzip.on('error', (error) => this.destroy(error));
    this.#gunzip = gunzip;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const gunzip = this.#gunzip;
    if (gunzip === null) {
      try {
        this.#scan(chunk);
      } catch (error) {
        return done(error as Error);
      }
      return done(null, chunk);
    }
    // On once gunzip has taken the chunk: its output never piles up behind a slow scan.
    gunzip.write(chunk, (error) => (error ? done(error) : done(null, chunk)));
  }

  override _flush(done: TransformCallback): void {
    const gunzip = this.#gunzip;
    if (gunzip === null) return done();
    gunzip.once('end', () => done());
    gunzip.end();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.#gunzip?.destroy();
    done(error);
  }

  #scan(chunk: Buffer): void {
    const started = performance.now();
    this.#scanner.write(chunk);
    this.scanMs += performance.now() - started;
  }

  /**
   * After the stream has ended: the header and counts when the snapshot is complete and
   * well formed; otherwise throws a HeapSnapshotError (HEAPSNAPSHOT_TRUNCATED…).
   */
  result(): SnapshotCounts {
    return this.#scanner.end();
  }
}
