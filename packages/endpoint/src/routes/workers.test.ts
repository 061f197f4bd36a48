import { EventEmitter, once } from 'node:events';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { bearer, jsonOf, startEndpoint, waitFor, type TestEndpoint } from '../../test-support/index.js';
import { ERROR_TRAILER, HEAP_USED_HEADER, type InfoResponse, type WorkersResponse } from '../protocol/index.js';

let ep: TestEndpoint;
let worker: Worker;
// A worker of its own, small: a class the main thread does not have, to find in its snapshot.
const WORKER_CODE =
  'class WorkerOnlyThing { constructor(i) { this.i = i; } } globalThis.kept = Array.from({ length: 1000 }, (_, i) => new WorkerOnlyThing(i)); setInterval(() => {}, 1000);';

beforeAll(async () => {
  ep = await startEndpoint();
  worker = new Worker(WORKER_CODE, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 64 } });
  await once(worker, 'online');
  ep.endpoint.registerWorker('indexer', worker);
});
afterAll(async () => {
  await worker.terminate();
  await ep.close();
});

const get = (path: string, token = ep.tokens['heap']) => fetch(`${ep.url}${path}`, { headers: bearer(token) });

/**
 * Until the snapshot gate is free: a snapshot's handler gives it back once its work is
 * done, a moment after its client has the last byte. A gated request for an unknown
 * worker answers 429 while the gate is taken and 404 once it is free.
 */
async function untilSnapshotsAllowed(): Promise<void> {
  await waitFor(async () => (await get('/heapdump?worker=nobody')).status === 404);
}

describe('worker threads', () => {
  it('lists registered workers in GET /workers, with heap statistics where Node has them', async () => {
    const body = (await jsonOf(await get('/workers', ep.tokens['reader']))) as WorkersResponse;
    expect(body.workers).toHaveLength(1);
    const [info] = body.workers;
    expect(info).toMatchObject({ name: 'indexer', threadId: worker.threadId, resourceLimits: { maxOldGenerationSizeMb: 64 } });
    if ('getHeapStatistics' in worker) {
      expect(info?.heap?.usedHeapSize).toBeGreaterThan(0);
      expect(info?.heapUnavailable).toBeNull();
    } else {
      expect(info?.heap).toBeNull();
      expect(info?.heapUnavailable).toMatch(/needs Node 22\.16 or later/);
    }
    const status = (await jsonOf(await get('/info', ep.tokens['reader']))) as InfoResponse;
    expect(status.workers).toEqual([{ name: 'indexer', threadId: worker.threadId }]);
  });

  it('streams a heap snapshot of the worker, not of the main thread', async () => {
    const res = await get('/heapdump?worker=indexer');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/-indexer-.*\.heapsnapshot"$/);
    // The main thread holds the worker's source text, but only the worker holds its objects.
    expect(objectsOfClass(await jsonOf(res), 'WorkerOnlyThing')).toBe(1000);
    await waitFor(() => ep.events.some((e) => e.route === '/heapdump'));
    expect(ep.events.findLast((e) => e.route === '/heapdump')?.detail).toMatchObject({
      worker: 'indexer',
      estimateBasis: 'getHeapStatistics' in worker ? 'worker' : 'main-thread',
    });
  });

  it('answers an unknown worker with 404 UNKNOWN_WORKER', async () => {
    const res = await get('/heapdump?worker=nobody');
    expect(res.status).toBe(404);
    expect((await jsonOf(res)).error).toMatchObject({ code: 'UNKNOWN_WORKER', details: { worker: 'nobody' } });
  });

  it("sends the headers, with the estimate, before the worker's snapshot is taken", async () => {
    await untilSnapshotsAllowed();
    const fake = new FakeWorker();
    const unregister = ep.endpoint.registerWorker('slow', fake as unknown as Worker);
    try {
      const res = await Promise.race([get('/heapdump?worker=slow'), sleep(2_000).then(() => null)]);
      expect(res?.status).toBe(200);
      expect(res?.headers.get(HEAP_USED_HEADER)).toBe(String(8 * 1024 * 1024));
      await waitFor(() => fake.asked === 1);
      fake.finish(Readable.from(['{"snapshot":{}}']));
      expect(await res?.text()).toBe('{"snapshot":{}}');
    } finally {
      unregister();
    }
  });

  it('ends the answer with the reason in its error trailer, and audits it, when the worker stops before its snapshot', async () => {
    await untilSnapshotsAllowed();
    const fake = new FakeWorker();
    const unregister = ep.endpoint.registerWorker('stopping', fake as unknown as Worker);
    try {
      const answer = new Promise<{ status: number; body: string; trailers: NodeJS.Dict<string> }>((resolve, reject) => {
        const req = request(`${ep.url}/heapdump?worker=stopping`, { headers: bearer(ep.tokens['heap']) }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, trailers: res.trailers }));
        });
        req.on('error', reject);
        req.end();
      });
      await waitFor(() => fake.asked === 1);
      fake.fail(Object.assign(new Error('Worker instance not running'), { code: 'ERR_WORKER_NOT_RUNNING' }));
      const { status, body, trailers } = await answer;
      expect({ status, body }).toEqual({ status: 200, body: '' });
      expect(JSON.parse(trailers[ERROR_TRAILER] ?? '{}').error).toMatchObject({
        code: 'UNKNOWN_WORKER',
        message: expect.stringMatching(/stopped before its snapshot was taken/),
      });
      await waitFor(() => ep.events.some((e) => e.route === '/heapdump' && e.detail?.['worker'] === 'stopping'));
      expect(ep.events.findLast((e) => e.route === '/heapdump')?.detail).toMatchObject({
        worker: 'stopping',
        error: expect.stringMatching(/stopped before its snapshot was taken/),
      });
    } finally {
      unregister();
    }
  });

  it('keeps the snapshot gate while the worker is paused, after its client left', async () => {
    await untilSnapshotsAllowed();
    const fake = new FakeWorker();
    const unregister = ep.endpoint.registerWorker('left', fake as unknown as Worker);
    try {
      const gone = new AbortController();
      await fetch(`${ep.url}/heapdump?worker=left`, { headers: bearer(ep.tokens['heap']), signal: gone.signal });
      await waitFor(() => fake.asked === 1);
      gone.abort();
      await sleep(50);
      const meanwhile = await get('/heapdump?worker=left');
      expect(meanwhile.status).toBe(429);
      expect((await jsonOf(meanwhile)).error.code).toBe('BUSY');
      const stream = Readable.from(['{"snapshot":{}}']);
      fake.finish(stream);
      await sleep(20);
      expect(stream.destroyed).toBe(true);
      const after = await get('/heapdump?worker=left');
      expect(after.status).toBe(200);
      await waitFor(() => fake.asked === 2);
      fake.finish(Readable.from(['{}']));
      expect(await after.text()).toBe('{}');
    } finally {
      unregister();
    }
  });

  it('refuses a second running worker under a taken name, and forgets workers that exit', async () => {
    const other = new Worker('setInterval(() => {}, 1000)', { eval: true });
    await once(other, 'online');
    expect(() => ep.endpoint.registerWorker('indexer', other)).toThrow(/already registered as "indexer"/);
    expect(() => ep.endpoint.registerWorker('bad name', other)).toThrow(TypeError);
    ep.endpoint.registerWorker('short-lived', other);
    expect(((await jsonOf(await get('/workers'))) as WorkersResponse).workers.map((w) => w.name)).toEqual(['indexer', 'short-lived']);
    await other.terminate();
    expect(((await jsonOf(await get('/workers'))) as WorkersResponse).workers.map((w) => w.name)).toEqual(['indexer']);
    expect((await get('/heapdump?worker=short-lived')).status).toBe(404);
  });
});

/** What the registry and the route use of a Worker, with a snapshot the test settles. */
class FakeWorker extends EventEmitter {
  readonly threadId = 4242;
  readonly resourceLimits = {};
  asked = 0;
  finish: (snapshot: Readable) => void = () => {};
  fail: (error: Error) => void = () => {};

  getHeapStatistics(): Promise<Record<string, number>> {
    return Promise.resolve({ used_heap_size: 8 * 1024 * 1024, total_heap_size: 16 * 1024 * 1024, heap_size_limit: 64 * 1024 * 1024 });
  }

  getHeapSnapshot(): Promise<Readable> {
    this.asked++;
    return new Promise((resolve, reject) => {
      this.finish = resolve;
      this.fail = reject;
    });
  }
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Objects whose constructor is `name`, counted from a parsed snapshot. */
function objectsOfClass(snapshot: Snapshot, name: string): number {
  const fields = snapshot.snapshot.meta.node_fields;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const objectType = snapshot.snapshot.meta.node_types[0].indexOf('object');
  let count = 0;
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    if (snapshot.nodes[i + typeAt] === objectType && snapshot.strings[snapshot.nodes[i + nameAt] ?? -1] === name) count++;
  }
  return count;
}
