// GET /heapdump: a heap snapshot of this process, streamed from a private temp file.
//
//   preflight  503 LOW_MEMORY when the snapshot's estimated peak memory exceeds the
//              headroom under the process's limit (cgroup, else system); 503
//              SNAPSHOT_DIR_UNAVAILABLE when heapSnapshot.dir is gone or unwritable; 507
//              LOW_DISK when it cannot hold the file. A failure once the answer has begun
//              (the disk filling up during the write) ends an empty body with the error
//              in the `opsctl-error` trailer.
//   headers    sent before the event loop blocks, with the heap size, the expected
//              pause and the estimated size, so the client can warn and show progress
//   snapshot   v8.writeHeapSnapshot into a mode-0700 temp dir (lowest peak memory)
//   stream     the file, gzip level 1 when accepted, with backpressure; the file is
//              removed on completion, on client abort and on error
//
// Query: skipMemoryCheck=true bypasses the preflight (the operator accepts the OOM risk);
// worker=NAME snapshots a registered worker thread instead (see heapdump-worker.ts).
import { createReadStream } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { createGzip, constants as zlib } from 'node:zlib';
import { describeFsError } from '../diagnostics/capture-store.js';
import { estimateSnapshot, freeDiskBytes, makeSnapshotDir, writeSnapshotFile, type SnapshotEstimate, type SnapshotFile } from '../diagnostics/heap-snapshot.js';
import type { PrivateTempDir } from '../diagnostics/temp-dirs.js';
import { readMemoryLimit } from '../diagnostics/memory-limit.js';
import { instanceIdentity } from '../instance.js';
import { ERROR_TRAILER, ESTIMATED_SIZE_HEADER, EXPECTED_PAUSE_HEADER, HEAP_USED_HEADER, type LowMemoryDetails, type MemoryLimit } from '../protocol.js';
import { acceptsGzip, booleanParam } from '../server/params.js';
import { errorBody, sendError, setCommonHeaders } from '../server/replies.js';
import type { Route } from '../server/route.js';
import { workerHeapdump } from './heapdump-worker.js';

// Memory frees up only when traffic or the application changes; asking again at once is pointless.
const LOW_MEMORY_RETRY_AFTER_S = 60;
// A missing or unwritable directory needs someone to fix it.
const SNAPSHOT_DIR_RETRY_AFTER_S = 60;

export const heapdump: Route = {
  name: 'heapdump',
  method: 'GET',
  path: '/heapdump',
  scope: 'heap',
  gate: 'heap-snapshot',
  async handle(req, res, ctx) {
    const skipMemoryCheck = booleanParam(ctx.query, 'skipMemoryCheck');
    if (skipMemoryCheck instanceof Error) return sendError(res, 'BAD_PARAM', { message: skipMemoryCheck.message });
    const worker = ctx.query.get('worker');
    if (worker !== null) return workerHeapdump(req, res, ctx, worker, skipMemoryCheck);
    const { dir, memoryFactor } = ctx.options.heapSnapshot;

    const estimate = estimateSnapshot(memoryFactor);
    const limit = readMemoryLimit(ctx.options.memoryLimitBytes);
    ctx.auditDetail['estimatedExtraBytes'] = estimate.extraPeakBytes;
    ctx.auditDetail['headroomBytes'] = limit.headroomBytes;
    if (!skipMemoryCheck && estimate.extraPeakBytes > limit.headroomBytes) return refuseLowMemory(res, estimate, limit);
    let snapshotDir: PrivateTempDir;
    let freeDisk: number;
    try {
      freeDisk = await freeDiskBytes(dir);
      snapshotDir = await makeSnapshotDir(dir);
    } catch (error) {
      ctx.auditDetail['error'] = describeFsError(error);
      return sendError(res, 'SNAPSHOT_DIR_UNAVAILABLE', {
        message: `Heap snapshots are written into ${dir}, which cannot be used now (${describeFsError(error)}); set heapSnapshot.dir (OPSCTL_HEAP_SNAPSHOT_DIR) to a directory this process can write.`,
        headers: { 'retry-after': SNAPSHOT_DIR_RETRY_AFTER_S },
      });
    }
    if (freeDisk < estimate.maxFileBytes) {
      await snapshotDir.remove();
      return sendError(res, 'LOW_DISK', {
        message: `A heap snapshot may need up to ${mb(estimate.maxFileBytes)} of disk in ${dir}, but only ${mb(freeDisk)} is free; set heapSnapshot.dir to a larger volume.`,
        details: { estimatedFileBytes: estimate.maxFileBytes, freeBytes: freeDisk },
      });
    }

    const gzip = acceptsGzip(req.headers['accept-encoding']);
    const fileName = snapshotFileName(ctx.options.app.name);
    setCommonHeaders(res);
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-disposition': `attachment; filename="${fileName}"`,
      vary: 'accept-encoding',
      [HEAP_USED_HEADER]: estimate.heapUsedBytes,
      [EXPECTED_PAUSE_HEADER]: estimate.pauseMs,
      [ESTIMATED_SIZE_HEADER]: estimate.fileBytes,
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      trailer: ERROR_TRAILER,
    });
    res.flushHeaders();
    // One turn of the event loop so the headers leave before the snapshot blocks it.
    await new Promise((resolve) => setImmediate(resolve));
    if (ctx.signal.aborted) return void (await snapshotDir.remove());

    let file: SnapshotFile;
    try {
      file = await writeSnapshotFile(snapshotDir, fileName);
    } catch (error) {
      // The answer has begun: the failure goes in a trailer after an empty body.
      ctx.auditDetail['error'] = describeFsError(error);
      const code = (error as NodeJS.ErrnoException).code === 'ENOSPC' ? 'LOW_DISK' : 'SNAPSHOT_DIR_UNAVAILABLE';
      res.addTrailers({ [ERROR_TRAILER]: JSON.stringify(errorBody(code, `Writing the heap snapshot into ${dir} failed (${describeFsError(error)}).`)) });
      res.end();
      return;
    }
    try {
      ctx.auditDetail['pauseMs'] = file.pauseMs;
      ctx.auditDetail['snapshotBytes'] = file.bytes;
      ctx.auditDetail['gzip'] = gzip;
      const source = createReadStream(file.path, { highWaterMark: 1024 * 1024 });
      // Level 1: 6-7x smaller for little CPU. 1 MiB output chunks: fewer, larger socket writes.
      if (gzip) await pipeline(source, createGzip({ level: zlib.Z_BEST_SPEED, chunkSize: 1024 * 1024 }), res, { signal: ctx.signal });
      else await pipeline(source, res, { signal: ctx.signal });
    } catch (error) {
      // The client went away or the endpoint is closing: nothing to answer.
      if (!ctx.signal.aborted) throw error;
    } finally {
      await file.remove();
    }
  },
};

/** 503 LOW_MEMORY: the snapshot's estimated peak would not fit under the process's memory limit. */
export function refuseLowMemory(res: ServerResponse, estimate: SnapshotEstimate, limit: MemoryLimit): void {
  const details: LowMemoryDetails = {
    estimatedExtraBytes: estimate.extraPeakBytes,
    headroomBytes: limit.headroomBytes,
    limitBytes: limit.limitBytes,
    limitSource: limit.source,
    memoryFactor: estimate.memoryFactor,
  };
  sendError(res, 'LOW_MEMORY', {
    message: `A heap snapshot would need about ${mb(estimate.extraPeakBytes)} more memory, but only ${mb(limit.headroomBytes)} is left under the ${limit.source} limit of ${mb(limit.limitBytes)}; the process could be OOM-killed. Pass skipMemoryCheck=true to take the risk.`,
    details: { ...details },
    headers: { 'retry-after': LOW_MEMORY_RETRY_AFTER_S },
  });
}

/** `<app>-<host>-<pid>-<UTC timestamp>.heapsnapshot`, safe in a header and on any file system. */
export function snapshotFileName(app: string, now = new Date()): string {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 64);
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${safe(app)}-${safe(instanceIdentity.host)}-${instanceIdentity.pid}-${stamp}.heapsnapshot`;
}

function mb(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)} MB`;
}
