// A thread that reads one snapshot file's class census, started by thread-read.ts so that
// two files are read at once on two cores. It posts progress (bytes read), then the census with
// its arrays transferred, not copied, or the error, as plain fields (thread-read.ts
// rebuilds it: a HeapSnapshotError keeps its code and offset, an I/O error its code and
// syscall).
import { parentPort, workerData } from 'node:worker_threads';
import { readClassSummary } from './census.js';
import { countingBytes, readFileChunks } from './source.js';
import type { FromReader, ReaderTask } from './thread-read.js';

/** Progress is posted each time this many more bytes have been read. */
const PROGRESS_EVERY_BYTES = 8 * 1024 * 1024;

const task = workerData as ReaderTask;
const post = (message: FromReader, transfer: ArrayBuffer[] = []) => parentPort?.postMessage(message, transfer);

let read = 0;
let posted = 0;
const chunks = countingBytes(readFileChunks(task.path, task.chunkSize), (bytes) => {
  read = bytes;
  if (read - posted < PROGRESS_EVERY_BYTES) return;
  post({ kind: 'progress', bytes: read });
  posted = read;
});

try {
  const summary = await readClassSummary(chunks, { chunkSize: task.chunkSize, sortIds: task.sortIds });
  post({ kind: 'progress', bytes: read });
  post({ kind: 'class-summary', summary }, [summary.ids.buffer as ArrayBuffer, summary.groupOf.buffer as ArrayBuffer]);
} catch (error) {
  const { name, message, code, offset, syscall } = error as Error & { code?: unknown; offset?: unknown; syscall?: unknown };
  post({ kind: 'error', name, message, code, offset, syscall });
}
