// GET /heapdump: a heap snapshot of the main thread (or, with worker=NAME, of a
// registered worker thread), streamed from a private temp file as V8 writes it.
//
//   preflight  429 BUSY when MAX_SNAPSHOT_FILES snapshots are still on their way to
//              clients, or when the previous snapshot's pause is not yet matched by as
//              long a time without one (SnapshotPacing, snapshot-preflight.ts; Retry-After
//              and details.retryInMs say when); 503 LOW_MEMORY when the snapshot's estimated peak memory exceeds
//              the headroom under the process's limit (cgroup, else system); 503
//              SNAPSHOT_DIR_UNAVAILABLE when heapSnapshot.dir is gone or unwritable; 507
//              LOW_DISK when it cannot hold the file; 404 UNKNOWN_WORKER
//   headers    sent before the snapshot blocks its thread, with the heap size, the
//              expected pause and the estimated size, so the client can warn and show progress
//   snapshot   written by the thread whose heap it is (host.writeSnapshot) into a new
//              0600 file in a mode-0700 temp dir; a failure once the answer has begun
//              (the disk filling up) ends the body with the error in the `opsctl-error` trailer
//   stream     the file, read as it grows (growing-file.ts) by the thread that serves
//              HTTP (the endpoint's own, on its own port), so that its bytes travel while
//              V8 is still writing; gzip level 1 when accepted, except to a client on
//              this kernel (KERNEL_HEADER); with backpressure; the pause in the
//              `opsctl-pause-ms` trailer; the file is removed on completion, on client
//              abort and on error
//
// Query: skipMemoryCheck=true bypasses the memory check (the operator accepts the risk of
// the application being OOM-killed): only a token with the admin scope may take it (403
// SCOPE_MISSING otherwise), as it may end the application.
//
// The heap-snapshot gate (one at a time, shared with automatic capture) is held until
// V8's write has returned, even when the client has gone, and no longer: the rest of the
// download reads a complete file from disk, and may take long on a slow link. Another
// snapshot may then start, because
//   - memory: V8 has freed its graph when the write returns; the download holds a few MiB
//     of buffers. What glibc keeps of the freed pages shows in the RSS the next
//     preflight measures, so a process without room for a second snapshot refuses it.
//   - disk: the file is whole, so the next preflight's free-space check sees its full
//     size; and at most MAX_SNAPSHOT_FILES files exist at once, so slow clients cannot
//     fill the volume with snapshots waiting to be read.
import type { FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip, constants as zlib } from 'node:zlib';
import { describeFsError } from '../diagnostics/capture-store.js';
import { openWhenCreated, readGrowingFile } from '../diagnostics/growing-file.js';
import { makeSnapshotDir, type SnapshotEstimate } from '../diagnostics/heap-snapshot.js';
import { SnapshotPacing, snapshotPreflight, type PreflightRefusal } from '../diagnostics/snapshot-preflight.js';
import type { PrivateTempDir } from '../diagnostics/temp-dirs.js';
import { Gate } from '../gate.js';
import type { Host } from '../host/host.js';
import { instanceFileName } from '../instance.js';
import {
  scopeAllows,
  ERROR_TRAILER,
  ESTIMATED_SIZE_HEADER,
  EXPECTED_PAUSE_HEADER,
  HEAP_USED_HEADER,
  KERNEL_HEADER,
  kernelKey,
  PAUSE_TRAILER,
  type ErrorCode,
  type LowMemoryDetails,
  type MemoryLimit,
} from '../protocol/index.js';
import { acceptsGzip, booleanParam } from '../server/params.js';
import { errorBody, sendError, setCommonHeaders } from '../server/replies.js';
import type { Route } from '../server/route.js';

// Memory frees up only when traffic or the application changes; asking again at once is pointless.
const LOW_MEMORY_RETRY_AFTER_S = 60;
// A missing or unwritable directory needs someone to fix it.
const SNAPSHOT_DIR_RETRY_AFTER_S = 60;
/** Snapshot files at once: one being written, and one still being read by a client. */
export const MAX_SNAPSHOT_FILES = 2;
// Until a download finishes: seconds on loopback, a minute or more on a slow link.
const FILES_RETRY_AFTER_S = 30;

export function heapdumpRoute(host: Host, gate: Gate): Route {
  const files = new Gate({
    max: MAX_SNAPSHOT_FILES,
    retryAfterSeconds: FILES_RETRY_AFTER_S,
    busyMessage: `${MAX_SNAPSHOT_FILES} heap snapshots are still on their way to their clients; try again when one has arrived.`,
  });
  const pacing = new SnapshotPacing();
  return {
    name: 'heapdump',
    method: 'GET',
    path: '/heapdump',
    scope: 'heap',
    gate,
    async handle(req, res, ctx) {
      const skipMemoryCheck = booleanParam(ctx.query, 'skipMemoryCheck');
      if (skipMemoryCheck instanceof Error) return sendError(res, 'BAD_PARAM', { message: skipMemoryCheck.message });
      if (skipMemoryCheck && (ctx.token === null || !scopeAllows(ctx.token.scopes, 'admin'))) {
        ctx.auditDetail['error'] = 'skipMemoryCheck without the admin scope';
        return sendError(res, 'SCOPE_MISSING', {
          message: `skipMemoryCheck=true risks the application being OOM-killed, and needs the "admin" scope${ctx.token === null ? '' : `, which the token "${ctx.token.name}" lacks`}; without it the memory check stays on.`,
          details: { required: 'admin', held: ctx.token?.scopes ?? [], param: 'skipMemoryCheck' },
        });
      }
      const worker = ctx.query.get('worker');
      if (worker !== null) ctx.auditDetail['worker'] = worker.slice(0, 64);
      const dir = ctx.config.heapSnapshotDir;
      const releaseFile = files.tryEnter();
      if (releaseFile === null) return sendError(res, 'BUSY', { message: files.busyMessage, headers: { 'retry-after': files.retryAfterSeconds } });
      try {
        const plan = await host.snapshotPlan(worker);
        if (plan.kind === 'unknown-worker') return refuseUnknownWorker(res, worker ?? '');
        const paced = pacing.refusal(worker ?? '');
        if (paced !== null) {
          ctx.auditDetail['error'] = paced.message;
          return sendError(res, 'BUSY', {
            message: paced.message,
            details: { retryInMs: paced.retryInMs, previousPauseMs: paced.previousPauseMs },
            headers: { 'retry-after': Math.max(1, Math.ceil(paced.retryInMs / 1000)) },
          });
        }
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
          return refuse(
            res,
            { kind: 'dir-unusable', message: `Heap snapshots are written into ${dir}, which cannot be used now (${describeFsError(error)}).` },
            estimate,
            limit,
          );
        }
        try {
          // A worker's estimate made from the main thread's heap is not worth a progress bar.
          await snapshotInto(snapshotDir, req, worker, res, ctx, estimate, worker === null || plan.basis === 'worker');
        } finally {
          await snapshotDir.remove();
        }
      } finally {
        releaseFile();
      }
    },
  };

  async function snapshotInto(
    snapshotDir: PrivateTempDir,
    req: IncomingMessage,
    worker: string | null,
    res: ServerResponse,
    ctx: Parameters<Route['handle']>[2],
    estimate: SnapshotEstimate,
    estimateIsTheirs: boolean,
  ): Promise<void> {
    // Compressing costs more than it saves when the bytes only cross memory (KERNEL_HEADER).
    const sameKernel = req.headers[KERNEL_HEADER] !== undefined && req.headers[KERNEL_HEADER] === kernelKey();
    const gzip = acceptsGzip(req.headers['accept-encoding']) && !sameKernel;
    const fileName = instanceFileName(worker === null ? ctx.config.app.name : `${ctx.config.app.name}-${worker}`, '.heapsnapshot');
    setCommonHeaders(res);
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-disposition': `attachment; filename="${fileName}"`,
      vary: 'accept-encoding',
      ...(estimateIsTheirs
        ? { [HEAP_USED_HEADER]: estimate.heapUsedBytes, [EXPECTED_PAUSE_HEADER]: estimate.pauseMs, [ESTIMATED_SIZE_HEADER]: estimate.fileBytes }
        : {}),
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      ...(sameKernel ? { [KERNEL_HEADER]: req.headers[KERNEL_HEADER] } : {}),
      trailer: `${ERROR_TRAILER}, ${PAUSE_TRAILER}`,
    });
    res.flushHeaders();
    ctx.auditDetail['gzip'] = gzip;
    if (sameKernel) ctx.auditDetail['sameKernel'] = true;
    // One turn of the event loop so the headers leave before the snapshot blocks it
    // (when the server shares the main thread: mounted).
    await new Promise((resolve) => setImmediate(resolve));
    if (ctx.signal.aborted) return;

    const writing = host.writeSnapshot(snapshotDir.path, fileName, worker);
    // V8's write has returned (or failed): the rest is a download from a whole file. The
    // next snapshot asked for over HTTP waits as long as this one paused its thread.
    void writing.then((written) => {
      if (written.kind === 'written')
        pacing.ended(worker ?? '', written.pauseMs, worker === null ? 'the application' : `the worker thread "${worker.slice(0, 64)}"`);
      ctx.releaseGate();
    }, ctx.releaseGate);
    // Opened once the writer has made it (growing-file.ts: why the writer makes it); null
    // when the writer failed before it did. The snapshot is written to its end, even when
    // nobody is left to send it to: the directory is removed only then, and the gate held
    // until then.
    let file: FileHandle | null;
    try {
      file = await openWhenCreated(join(snapshotDir.path, fileName), writing, ctx.signal);
    } catch (error) {
      await writing;
      if (ctx.signal.aborted) return;
      throw error;
    }
    try {
      let sent: Error | null = null;
      let bytes = 0;
      if (file !== null) {
        const body = readGrowingFile(file, writing, ctx.signal);
        try {
          // Level 1: 6-6.5x smaller for little CPU. 1 MiB output chunks: fewer, larger socket writes.
          if (gzip) await pipeline(body.chunks, createGzip({ level: zlib.Z_BEST_SPEED, chunkSize: 1024 * 1024 }), res, { signal: ctx.signal, end: false });
          else await pipeline(body.chunks, res, { signal: ctx.signal, end: false });
        } catch (error) {
          sent = error as Error;
        }
        bytes = body.bytes;
      }
      const written = await writing;
      if (sent !== null) {
        // The client went away or the endpoint is closing: nothing to answer.
        if (ctx.signal.aborted) return;
        throw sent;
      }
      if (written.kind === 'failed') {
        // The answer has begun: the failure goes in a trailer after what was sent.
        ctx.auditDetail['error'] = written.message;
        const code = written.errno === 'ENOSPC' ? 'LOW_DISK' : written.errno === 'ERR_WORKER_NOT_RUNNING' ? 'UNKNOWN_WORKER' : 'SNAPSHOT_DIR_UNAVAILABLE';
        return endWithError(res, code, `${written.message[0]?.toUpperCase()}${written.message.slice(1)}.`);
      }
      ctx.auditDetail['pauseMs'] = written.pauseMs;
      ctx.auditDetail['snapshotBytes'] = written.bytes;
      if (bytes !== written.bytes) {
        ctx.auditDetail['error'] = `sent ${bytes} of ${written.bytes} bytes`;
        return endWithError(res, 'INTERNAL', `The snapshot file held ${written.bytes} bytes once written, but ${bytes} were read from it.`);
      }
      res.addTrailers({ [PAUSE_TRAILER]: String(written.pauseMs) });
      res.end();
    } finally {
      await file?.close();
    }
  }
}

function endWithError(res: ServerResponse, code: ErrorCode, message: string): void {
  res.addTrailers({ [ERROR_TRAILER]: JSON.stringify(errorBody(code, message)) });
  res.end();
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
      return sendError(res, 'LOW_MEMORY', {
        message: `${refusal.message} Pass skipMemoryCheck=true (with a token that has the admin scope) to take the risk.`,
        details: { ...details },
        headers: { 'retry-after': LOW_MEMORY_RETRY_AFTER_S },
      });
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
  sendError(res, 'UNKNOWN_WORKER', {
    message: `No running worker thread is registered as "${name.slice(0, 64)}"; GET /workers lists them.`,
    details: { worker: name.slice(0, 64) },
  });
}
