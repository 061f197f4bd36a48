// Worker threads the application registered by name. Node keeps no public list of its
// Worker instances, so the application hands them over (`ops.registerWorker(name, w)`);
// a worker that exits is dropped. Heap statistics of a worker need
// Worker#getHeapStatistics() (Node 22.16+); before that they are reported unavailable.
import type { Worker } from 'node:worker_threads';
import type { WorkerHeapStatistics, WorkerInfo } from '../protocol/index.js';

// Safe as a query value, a file name part and a shell word.
const WORKER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** What Node 22.16+ adds to Worker; @types/node 20 does not know it. */
type WorkerWithHeapStatistics = Worker & { getHeapStatistics?: () => Promise<Record<string, number>> };

const HEAP_STATISTICS_UNAVAILABLE = `Node ${process.version} cannot read a worker's heap statistics (Worker#getHeapStatistics needs Node 22.16 or later).`;

export class WorkerRegistry {
  readonly #workers = new Map<string, Worker>();

  /**
   * Registers `worker` under `name`; returns the function that unregisters it. Throws a
   * TypeError for a bad name or one a running worker already has.
   */
  register(name: string, worker: Worker): () => void {
    if (typeof name !== 'string' || !WORKER_NAME.test(name)) {
      throw new TypeError(`opsctl endpoint: a worker's name must be 1-64 letters, digits, ".", "_" or "-", not ${JSON.stringify(name)}`);
    }
    if (worker === null || typeof worker !== 'object' || typeof worker.getHeapSnapshot !== 'function') {
      throw new TypeError('opsctl endpoint: registerWorker() takes a worker_threads Worker');
    }
    const existing = this.#workers.get(name);
    // threadId is -1 once a worker has stopped, which may be before its 'exit' event.
    if (existing !== undefined && existing !== worker && existing.threadId !== -1) {
      throw new TypeError(`opsctl endpoint: a running worker is already registered as "${name}"; give each a distinct name`);
    }
    this.#workers.set(name, worker);
    const unregister = () => {
      if (this.#workers.get(name) === worker) this.#workers.delete(name);
    };
    worker.once('exit', unregister);
    return () => {
      worker.off('exit', unregister);
      unregister();
    };
  }

  /** The running worker with this name, if any. */
  get(name: string): Worker | undefined {
    const worker = this.#workers.get(name);
    return worker === undefined || worker.threadId === -1 ? undefined : worker;
  }

  /** Names and thread ids of the running workers, by name. */
  names(): { name: string; threadId: number }[] {
    return [...this.#workers.entries()]
      .filter(([, worker]) => worker.threadId !== -1)
      .map(([name, worker]) => ({ name, threadId: worker.threadId }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async describe(): Promise<WorkerInfo[]> {
    return Promise.all(
      this.names().map(async ({ name, threadId }) => {
        const worker = this.#workers.get(name) as Worker;
        const heap = await heapStatistics(worker);
        return {
          name,
          threadId,
          heap: heap instanceof Error ? null : heap,
          heapUnavailable: heap instanceof Error ? heap.message : null,
          resourceLimits: Object.fromEntries(Object.entries(worker.resourceLimits ?? {}).filter(([, v]) => typeof v === 'number' && v > 0)) as Record<
            string,
            number
          >,
        };
      }),
    );
  }
}

/** The worker's V8 heap statistics, or an Error saying why they cannot be read. */
export async function heapStatistics(worker: Worker): Promise<WorkerHeapStatistics | Error> {
  const read = (worker as WorkerWithHeapStatistics).getHeapStatistics;
  if (typeof read !== 'function') return new Error(HEAP_STATISTICS_UNAVAILABLE);
  try {
    const stats = await read.call(worker);
    return {
      usedHeapSize: stats['used_heap_size'] ?? 0,
      totalHeapSize: stats['total_heap_size'] ?? 0,
      heapSizeLimit: stats['heap_size_limit'] ?? 0,
      externalMemory: stats['external_memory'] ?? 0,
      mallocedMemory: stats['malloced_memory'] ?? 0,
    };
  } catch (error) {
    // ERR_WORKER_NOT_RUNNING: it stopped while we asked.
    return new Error(`The worker's heap statistics could not be read: ${(error as Error).message}`);
  }
}
