// Reading a snapshot file on a thread of its own (reader-thread.ts), while this thread
// reads another: the scan is CPU-bound at one core per file, so on two cores a class diff
// takes about as long as reading its larger file (docs/benchmarks.md#heap-diffs). A thread
// costs its own isolate (a few MB) and holds what it reads only until it hands it over.
import { Worker } from 'node:worker_threads';
import type { ClassSummary } from './classes.js';
import { HeapSnapshotError } from './errors.js';
import { DEFAULT_CHUNK_BYTES } from './source.js';

export interface ReaderTask {
  path: string;
  chunkSize: number;
  sortIds: boolean;
}

export type FromReader =
  | { kind: 'progress'; bytes: number }
  | { kind: 'class-summary'; summary: ClassSummary }
  | { kind: 'error'; name: string; message: string; code: unknown; offset: unknown; syscall: unknown };

export interface ThreadReadOptions {
  chunkSize?: number;
  /** As readClassSummary's: false leaves the ids in node order. Default true. */
  sortIds?: boolean;
  /** Bytes of the file read so far, now and then. */
  onProgress?: (bytes: number) => void;
  /** Stops the thread; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** readClassSummary(path), on a thread of its own. */
export function readClassSummaryOnThread(path: string, options: ThreadReadOptions = {}): Promise<ClassSummary> {
  const task: ReaderTask = { path, chunkSize: options.chunkSize ?? DEFAULT_CHUNK_BYTES, sortIds: options.sortIds ?? true };
  return new Promise<ClassSummary>((resolve, reject) => {
    const { signal } = options;
    if (signal?.aborted === true) return reject(signal.reason);
    // Not the CLI's own flags (none it needs), and no inspector port of its own.
    const worker = new Worker(readerScript(), { workerData: task, execArgv: [], name: 'opsctl-snapshot-reader' });
    let settled = false;
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      finish();
    };
    const onAbort = () => {
      void worker.terminate();
      settle(() => reject(signal?.reason));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (message: FromReader) => {
      if (message.kind === 'progress') return options.onProgress?.(message.bytes);
      if (message.kind === 'error') return settle(() => reject(rebuildError(message)));
      settle(() => resolve(message.summary));
    });
    worker.once('error', (error) => settle(() => reject(error)));
    worker.once('exit', (code) => settle(() => reject(new Error(`the snapshot reader thread stopped (exit code ${code}) before it answered`))));
  });
}

function rebuildError(message: Extract<FromReader, { kind: 'error' }>): Error {
  if (message.name === 'HeapSnapshotError') {
    return new HeapSnapshotError(message.code as HeapSnapshotError['code'], message.message, typeof message.offset === 'number' ? message.offset : null);
  }
  return Object.assign(new Error(message.message), { code: message.code, syscall: message.syscall });
}

/**
 * The thread's script: beside this module, in build/ or in the bundle's dist/. Run from
 * the TypeScript sources (the unit tests), the one in build/, which `pnpm test` builds
 * first. Nowhere else: from the bundle, a path above dist/ would leave the package.
 */
function readerScript(): URL {
  const here = import.meta.url;
  if (here.endsWith('/src/heapsnapshot/thread-read.ts')) return new URL('../../build/heapsnapshot/reader-thread.js', here);
  return new URL('./reader-thread.js', here);
}
