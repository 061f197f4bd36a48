// GET /heapdump?worker=NAME: a heap snapshot of a registered worker thread, streamed from
// Worker#getHeapSnapshot(). The worker's event loop is paused while V8 writes it; the
// main thread's goes on. The memory preflight weighs the worker's heap against the
// process's limit (threads share it); Node before 22.16 cannot tell a worker's heap size,
// and there the estimate assumes it is no larger than the main thread's (audited as
// `estimateBasis: "main-thread"`). No file: the snapshot streams as the worker writes it.
//
// The headers (with the estimate) leave before the snapshot starts, as for the main
// thread: getHeapSnapshot() resolves only once the worker's pause is over, and a client
// that heard nothing until then would give up on its timeout. So a worker that stops
// meanwhile can no longer be answered 404: the response is cut short (an incomplete
// download to the client) and the audit event says why.
//
// The heap-snapshot gate is released when the response closes (server/pipeline.ts), so a
// client that leaves mid-snapshot would free it while the worker is still paused, and a
// second snapshot could start beside the first. The route takes the gate again at that
// moment, until getHeapSnapshot() settles: the pipeline's close listener was added before
// the handler ran, so it runs first and nothing can enter in between. (Should that order
// ever change, tryEnter() finds the gate still taken and the route holds nothing extra.)
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, constants as zlib } from 'node:zlib';
import { estimateForHeap, estimateSnapshot } from '../diagnostics/heap-snapshot.js';
import { readMemoryLimit } from '../diagnostics/memory-limit.js';
import { heapStatistics } from '../diagnostics/workers.js';
import { ESTIMATED_SIZE_HEADER, EXPECTED_PAUSE_HEADER, HEAP_USED_HEADER } from '../protocol.js';
import { acceptsGzip } from '../server/params.js';
import { sendError, setCommonHeaders } from '../server/replies.js';
import type { RouteContext } from '../server/route.js';
import { refuseLowMemory, snapshotFileName } from './heapdump.js';

export async function workerHeapdump(req: IncomingMessage, res: ServerResponse, ctx: RouteContext, name: string, skipMemoryCheck: boolean): Promise<void> {
  ctx.auditDetail['worker'] = name.slice(0, 64);
  const worker = ctx.workers.get(name);
  if (worker === undefined) return refuseUnknown(res, name);

  const stats = await heapStatistics(worker);
  const { memoryFactor } = ctx.options.heapSnapshot;
  // The worker's spaces are unknown: all of its heap counts as small objects (the safe side).
  const estimate = stats instanceof Error ? estimateSnapshot(memoryFactor) : estimateForHeap(stats.usedHeapSize, 0, memoryFactor);
  const limit = readMemoryLimit(ctx.options.memoryLimitBytes);
  ctx.auditDetail['estimateBasis'] = stats instanceof Error ? 'main-thread' : 'worker';
  ctx.auditDetail['estimatedExtraBytes'] = estimate.extraPeakBytes;
  ctx.auditDetail['headroomBytes'] = limit.headroomBytes;
  if (!skipMemoryCheck && estimate.extraPeakBytes > limit.headroomBytes) return refuseLowMemory(res, estimate, limit);

  // heapStatistics() awaited the worker: it may have stopped since the lookup.
  if (ctx.workers.get(name) !== worker) return refuseUnknown(res, name);

  const gzip = acceptsGzip(req.headers['accept-encoding']);
  setCommonHeaders(res);
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-disposition': `attachment; filename="${snapshotFileName(`${ctx.options.app.name}-${name}`)}"`,
    vary: 'accept-encoding',
    ...(stats instanceof Error ? {} : { [HEAP_USED_HEADER]: estimate.heapUsedBytes, [EXPECTED_PAUSE_HEADER]: estimate.pauseMs, [ESTIMATED_SIZE_HEADER]: estimate.fileBytes }),
    ...(gzip ? { 'content-encoding': 'gzip' } : {}),
  });
  res.flushHeaders();
  ctx.auditDetail['gzip'] = gzip;
  if (ctx.signal.aborted) return;

  const taking = worker.getHeapSnapshot();
  let settled = false;
  taking.then(() => (settled = true), () => (settled = true));
  res.once('close', () => {
    if (settled) return;
    const hold = ctx.gate?.tryEnter();
    if (hold) taking.then(hold, hold);
  });
  let snapshot: Readable;
  try {
    snapshot = await taking;
  } catch (error) {
    // ERR_WORKER_NOT_RUNNING: it stopped before or during the snapshot. The 200 is sent;
    // ending the response early is the one way left to say it failed.
    ctx.auditDetail['error'] = `the worker stopped before its snapshot was taken (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
    res.destroy();
    return;
  }
  if (ctx.signal.aborted) {
    snapshot.destroy(); // the client went away during the pause: nobody to send it to
    return;
  }
  try {
    if (gzip) await pipeline(snapshot, createGzip({ level: zlib.Z_BEST_SPEED, chunkSize: 1024 * 1024 }), res, { signal: ctx.signal });
    else await pipeline(snapshot, res, { signal: ctx.signal });
  } catch (error) {
    snapshot.destroy();
    if (!ctx.signal.aborted) throw error;
  }
}

function refuseUnknown(res: ServerResponse, name: string): void {
  sendError(res, 'UNKNOWN_WORKER', { message: `No running worker thread is registered as "${name.slice(0, 64)}"; GET /workers lists them.`, details: { worker: name.slice(0, 64) } });
}
