// Automatically captured heap snapshots (see diagnostics/capture.ts), kept for later:
//
//   GET    /snapshots       the captures, oldest first, and the capture status
//   GET    /snapshots/:id   one capture's bytes (gzip), resumable: Range → 206 with
//                           Content-Range, 416 past the end; ETag and Repr-Digest carry
//                           the SHA-256 so the client can verify what it assembled
//   DELETE /snapshots/:id   removes one, making room under maxCount and maxDiskBytes
//
// All need the heap scope: a snapshot holds every secret of the process. The captures
// are kept by the main thread (the Host); their bytes stream from the thread that serves HTTP.
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Host, StoredCaptureFile } from '../host/host.js';
import type { SnapshotDeleteResponse } from '../protocol/index.js';
import { answerRange } from '../server/range.js';
import { sendError, sendJson, setCommonHeaders } from '../server/replies.js';
import { disabledRoute, notEnabled, type Route, type RouteContext } from '../server/route.js';

const FEATURE = 'automatic capture';

export function snapshotRoutes(host: Host, enabled: boolean): Route[] {
  const list = { name: 'snapshots', method: 'GET', path: '/snapshots', scope: 'heap' } as const;
  const get = { name: 'snapshot-get', method: 'GET', path: '/snapshots/:id', scope: 'heap' } as const;
  const remove = { name: 'snapshot-delete', method: 'DELETE', path: '/snapshots/:id', scope: 'heap' } as const;
  if (!enabled) return [disabledRoute(list, notEnabled(FEATURE)), disabledRoute(get, notEnabled(FEATURE)), disabledRoute(remove, notEnabled(FEATURE))];
  return [
    { ...list, handle: async (_req, res) => sendJson(res, 200, await host.captures()) },
    { ...get, handle: (req, res, ctx) => sendCapture(host, req, res, ctx) },
    {
      ...remove,
      async handle(_req, res, ctx) {
        const stored = await findOrRefuse(host, ctx, res);
        if (stored === null) return;
        const removed = await host.removeCapture(stored.entry.id);
        if (removed === null) return refuseUnknown(ctx, res);
        ctx.auditDetail['id'] = removed.id;
        const body: SnapshotDeleteResponse = { deleted: removed };
        sendJson(res, 200, body);
      },
    },
  ];
}

async function sendCapture(host: Host, req: Parameters<Route['handle']>[0], res: Parameters<Route['handle']>[1], ctx: RouteContext): Promise<void> {
  const stored = await findOrRefuse(host, ctx, res);
  if (stored === null) return;
  const { entry, path } = stored;
  const etag = `"${entry.sha256}"`;
  const answer = answerRange(header(req.headers.range), header(req.headers['if-range']), etag, entry.bytes);
  const headers: Record<string, string | number> = {
    'accept-ranges': 'bytes',
    etag,
    'repr-digest': `sha-256=:${Buffer.from(entry.sha256, 'hex').toString('base64')}:`,
  };
  if (answer.kind === 'unsatisfiable') {
    ctx.auditDetail['range'] = header(req.headers.range)?.slice(0, 100);
    return sendError(res, 'RANGE_NOT_SATISFIABLE', {
      message: `The range ${header(req.headers.range)?.slice(0, 40)} lies outside the ${entry.bytes} bytes of ${entry.id}.`,
      headers: { ...headers, 'content-range': `bytes */${entry.bytes}` },
    });
  }
  const start = answer.kind === 'partial' ? answer.start : 0;
  const end = answer.kind === 'partial' ? answer.end : entry.bytes - 1;
  ctx.auditDetail['id'] = entry.id;
  if (answer.kind === 'partial') ctx.auditDetail['range'] = `${start}-${end}`;
  setCommonHeaders(res);
  res.writeHead(answer.kind === 'partial' ? 206 : 200, {
    ...headers,
    'content-type': 'application/gzip',
    'content-length': end - start + 1,
    'content-disposition': `attachment; filename="${entry.id}.heapsnapshot.gz"`,
    ...(answer.kind === 'partial' ? { 'content-range': `bytes ${start}-${end}/${entry.bytes}` } : {}),
  });
  try {
    await pipeline(createReadStream(path, { start, end, highWaterMark: 1024 * 1024 }), res, { signal: ctx.signal });
  } catch (error) {
    // The client went away (it may resume) or the endpoint is closing.
    if (!ctx.signal.aborted) throw error;
  }
}

async function findOrRefuse(host: Host, ctx: RouteContext, res: Parameters<Route['handle']>[1]): Promise<StoredCaptureFile | null> {
  const stored = await host.findCapture(ctx.params['id'] ?? '');
  if (stored === null) refuseUnknown(ctx, res);
  return stored;
}

function refuseUnknown(ctx: RouteContext, res: Parameters<Route['handle']>[1]): void {
  const id = ctx.params['id'] ?? '';
  ctx.auditDetail['id'] = id;
  sendError(res, 'UNKNOWN_SNAPSHOT', { message: `No captured heap snapshot has the id "${id}"; GET /snapshots lists them.`, details: { id } });
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
