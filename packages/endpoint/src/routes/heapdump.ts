// GET /heapdump: a heap snapshot of the main thread (or, with worker=NAME, of a
// registered worker thread), streamed from a private temp file.
//
//   preflight  503 LOW_MEMORY when the snapshot's estimated peak memory exceeds the
//              headroom under the process's limit (cgroup, else system); 503
//              SNAPSHOT_DIR_UNAVAILABLE when heapSnapshot.dir is gone or unwritable; 507
//              LOW_DISK when it cannot hold the file; 404 UNKNOWN_WORKER
//   headers    sent before the snapshot blocks its thread, with the heap size, the
//              expected pause and the estimated size, so the client can warn and show progress
//   snapshot   written by the thread whose heap it is (host.writeSnapshot) into a
//              mode-0700 temp dir; a failure once the answer has begun (the disk filling
//              up) ends an empty body with the error in the `opsctl-error` trailer
//   stream     the file, gzip level 1 when accepted, with backpressure, from the thread
//              that serves HTTP (the endpoint's own, on its own port); the file is
//              removed on completion, on client abort and on error
//
// Query: skipMemoryCheck=true bypasses the preflight (the operator accepts the OOM risk).
// The heap-snapshot gate (one at a time, shared with automatic capture) is held until
// the snapshot is written, even when the client has gone.
import { createReadStream } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { createGzip, constants as zlib } from 'node:zlib';
import { describeFsError } from '../diagnostics/capture-store.js';
import { makeSnapshotDir, type SnapshotEstimate } from '../diagnostics/heap-snapshot.js';
import { snapshotPreflight, type PreflightRefusal } from '../diagnostics/snapshot-preflight.js';
import type { PrivateTempDir } from '../diagnostics/temp-dirs.js';
import type { Host } from '../host/host.js';
import { instanceFileName } from '../instance.js';
import { ERROR_TRAILER, ESTIMATED_SIZE_HEADER, EXPECTED_PAUSE_HEADER, HEAP_USED_HEADER, type LowMemoryDetails, type MemoryLimit } from '../protocol.js';
import type { Gate } from '../gate.js';
import { acceptsGzip, booleanParam } from '../server/params.js';
import { errorBody, sendError, setCommonHeaders } from '../server/replies.js';
import type { Route } from '../server/route.js';

// Memory frees up only when traffic or the application changes; asking again at once is pointless.
const LOW_MEMORY_RETRY_AFTER_S = 60;
// A missing or unwritable directory needs someone to fix it.
const SNAPSHOT_DIR_RETRY_AFTER_S = 60;

export function heapdumpRoute(host: Host, gate: Gate): Route {
  return {
    name: 'heapdump',
    method: 'GET',
    path: '/heapdump',
    scope: 'heap',
    gate,
    async handle(req, res, ctx) {
      const skipMemoryCheck = booleanParam(ctx.query, 'skipMemoryCheck');
      if (skipMemoryCheck instanceof Error) return sendError(res, 'BAD_PARAM', { message: skipMemoryCheck.message });
      const worker = ctx.query.get('worker');
      if (worker !== null) ctx.auditDetail['worker'] = worker.slice(0, 64);
      const dir = ctx.config.heapSnapshotDir;

      const plan = await host.snapshotPlan(worker);
      if (plan.kind === 'unknown-worker') return refuseUnknownWorker(res, worker ?? '');
      const { estimate, limit } = plan;
      ctx.auditDetail['estimatedExtraBytes'] = estimate.extraPeakBytes;
      ctx.auditDetail['headroomBytes'] = limit.headroomBytes;
      if (worker !== null) ctx.auditDetail['estimateBasis'] = plan.basis;
      const refusal = await snapshotPreflight({ estimate, limit, dir, checkMemory: !skipMemoryCheck });
      if (refusal !== null) {
        ctx.auditDetail['error'] = refusal.message;
        return refuse(res, refusal, estimate, limit);
      }
      let snapshotDir: PrivateTempDir;
      try {
        snapshotDir = await makeSnapshotDir(dir);
      } catch (error) {
        ctx.auditDetail['error'] = describeFsError(error);
        return refuse(res, { kind: 'dir-unusable', message: `Heap snapshots are written into ${dir}, which cannot be used now (${describeFsError(error)}).` }, estimate, limit);
      }
      try {
        // A worker's estimate made from the main thread's heap is not worth a progress bar.
        await snapshotInto(snapshotDir, req.headers['accept-encoding'], worker, res, ctx, estimate, worker === null || plan.basis === 'worker');
      } finally {
        await snapshotDir.remove();
      }
    },
  };

  async function snapshotInto(snapshotDir: PrivateTempDir, acceptEncoding: string | undefined, worker: string | null, res: ServerResponse, ctx: Parameters<Route['handle']>[2], estimate: SnapshotEstimate, estimateIsTheirs: boolean): Promise<void> {
    const gzip = acceptsGzip(acceptEncoding);
    const fileName = instanceFileName(worker === null ? ctx.config.app.name : `${ctx.config.app.name}-${worker}`, '.heapsnapshot');
    setCommonHeaders(res);
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-disposition': `attachment; filename="${fileName}"`,
      vary: 'accept-encoding',
      ...(estimateIsTheirs ? { [HEAP_USED_HEADER]: estimate.heapUsedBytes, [EXPECTED_PAUSE_HEADER]: estimate.pauseMs, [ESTIMATED_SIZE_HEADER]: estimate.fileBytes } : {}),
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      trailer: ERROR_TRAILER,
    });
    res.flushHeaders();
    ctx.auditDetail['gzip'] = gzip;
    // One turn of the event loop so the headers leave before the snapshot blocks it
    // (when the server shares the main thread: mounted).
    await new Promise((resolve) => setImmediate(resolve));
    if (ctx.signal.aborted) return;

    const written = await host.writeSnapshot(snapshotDir.path, fileName, worker);
    if (written.kind === 'failed') {
      // The answer has begun: the failure goes in a trailer after an empty body.
      ctx.auditDetail['error'] = written.message;
      const code = written.errno === 'ENOSPC' ? 'LOW_DISK' : written.errno === 'ERR_WORKER_NOT_RUNNING' ? 'UNKNOWN_WORKER' : 'SNAPSHOT_DIR_UNAVAILABLE';
      res.addTrailers({ [ERROR_TRAILER]: JSON.stringify(errorBody(code, `${written.message[0]?.toUpperCase()}${written.message.slice(1)}.`)) });
      res.end();
      return;
    }
    ctx.auditDetail['pauseMs'] = written.pauseMs;
    ctx.auditDetail['snapshotBytes'] = written.bytes;
    // The client may have gone during the pause: nobody to send it to.
    if (ctx.signal.aborted) return;
    try {
      const source = createReadStream(written.path, { highWaterMark: 1024 * 1024 });
      // Level 1: 6-7x smaller for little CPU. 1 MiB output chunks: fewer, larger socket writes.
      if (gzip) await pipeline(source, createGzip({ level: zlib.Z_BEST_SPEED, chunkSize: 1024 * 1024 }), res, { signal: ctx.signal });
      else await pipeline(source, res, { signal: ctx.signal });
    } catch (error) {
      // The client went away or the endpoint is closing: nothing to answer.
      if (!ctx.signal.aborted) throw error;
    }
  }
}

/** The preflight's refusal in HTTP, with what the operator can do about it. */
function refuse(res: ServerResponse, refusal: PreflightRefusal, estimate: SnapshotEstimate, limit: MemoryLimit): void {
  switch (refusal.kind) {
    case 'low-memory': {
      const details: LowMemoryDetails = {
        estimatedExtraBytes: estimate.extraPeakBytes,
        headroomBytes: limit.headroomBytes,
        limitBytes: limit.limitBytes,
        limitSource: limit.source,
        memoryFactor: estimate.memoryFactor,
      };
      return sendError(res, 'LOW_MEMORY', { message: `${refusal.message} Pass skipMemoryCheck=true to take the risk.`, details: { ...details }, headers: { 'retry-after': LOW_MEMORY_RETRY_AFTER_S } });
    }
    case 'low-disk':
      return sendError(res, 'LOW_DISK', {
        message: `${refusal.message} Set heapSnapshot.dir to a larger volume.`,
        details: { estimatedFileBytes: estimate.maxFileBytes, freeBytes: refusal.freeBytes },
      });
    case 'dir-unusable':
      return sendError(res, 'SNAPSHOT_DIR_UNAVAILABLE', {
        message: `${refusal.message} Set heapSnapshot.dir (OPSCTL_HEAP_SNAPSHOT_DIR) to a directory this process can write.`,
        headers: { 'retry-after': SNAPSHOT_DIR_RETRY_AFTER_S },
      });
  }
}

function refuseUnknownWorker(res: ServerResponse, name: string): void {
  sendError(res, 'UNKNOWN_WORKER', { message: `No running worker thread is registered as "${name.slice(0, 64)}"; GET /workers lists them.`, details: { worker: name.slice(0, 64) } });
}
