// opsctl heapdump [--out PATH]: a heap snapshot of the target process, written
// atomically and verified complete before it appears under its name (by default in the
// current directory, under the name the endpoint suggests). takeHeapSnapshot is the
// operation without the printing, for commands that reach a process of their own
// choosing (fleet --heapdump-worst).
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { ESTIMATED_SIZE_HEADER, EXPECTED_PAUSE_HEADER, HEAP_USED_HEADER, INSTANCE_HEADER, type MemoryResponse } from '@opsctl/endpoint/protocol';
import { transferFailure } from '../client/download.js';
import type { Client } from '../client/http.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { AtomicFile, resolveDestination, STREAM_CHUNK_BYTES, suggestedName } from '../files.js';
import { validateHeapSnapshot } from '../heapsnapshot/validate.js';
import { formatBytes, formatDuration } from '../ui/format.js';

export interface HeapdumpOptions {
  /** A file, or a directory; the current directory when absent. */
  out?: string;
  /** Keep the file gzip-compressed (.heapsnapshot.gz). */
  gzip: boolean;
  force: boolean;
  skipMemoryCheck: boolean;
  /** A worker thread the application registered under this name, instead of the main thread. */
  worker?: string;
}

export interface HeapdumpResult {
  path: string;
  /** Bytes on disk (compressed with --gzip). */
  bytes: number;
  gzip: boolean;
  nodes: number;
  /** Time from request to first byte: the process was paused for most of it. */
  snapshotMs: number;
  downloadMs: number;
  totalMs: number;
  instance: string | null;
  /** The worker thread snapshotted; null for the main thread. */
  worker: string | null;
  rssBeforeBytes: number;
  rssAfterBytes: number;
}

export async function runHeapdump(opts: HeapdumpOptions, ctx: Context): Promise<HeapdumpResult> {
  const result = await takeHeapSnapshot(opts, await ctx.client(), ctx);
  ctx.out.result(result, (r, c) =>
    [
      `${c.green('✔')} Heap snapshot${r.worker === null ? '' : ` of worker "${r.worker}"`} written to ${c.bold(r.path)} (${formatBytes(r.bytes)}, ${r.nodes.toLocaleString('en-US')} objects)`,
      `  snapshot ${formatDuration(r.snapshotMs / 1000)} (${r.worker === null ? 'process' : 'worker'} paused), download ${formatDuration(r.downloadMs / 1000)}`,
      // The warning only when the snapshot's memory stayed with the process.
      `  process memory (RSS) ${formatBytes(r.rssBeforeBytes)} before, ${formatBytes(r.rssAfterBytes)} after${r.rssAfterBytes > r.rssBeforeBytes ? ': freed pages often stay with the process; avoid snapshots in a loop' : ''}`,
      `  open it in Chrome DevTools: Memory tab → Load profile…${r.gzip ? ' (gunzip it first)' : ''}`,
    ].join('\n'),
  );
  return result;
}

/** Takes a heap snapshot of the process `client` talks to and writes it where `opts` says; prints only progress. */
export async function takeHeapSnapshot(opts: HeapdumpOptions, client: Client, ctx: Context): Promise<HeapdumpResult> {
  const destination = await resolveDestination({ ...opts, cwd: ctx.cwd });
  const before = await client.json<MemoryResponse>('/memory');
  const file = await AtomicFile.create(destination.dir, (text) => ctx.out.info(text));
  const spinner = await ctx.out.spinner('requesting a heap snapshot…');
  const started = performance.now();
  try {
    const response = await client.request('/heapdump', {
      query: { skipMemoryCheck: opts.skipMemoryCheck || undefined, worker: opts.worker },
      headers: { 'accept-encoding': 'gzip' },
      stream: true,
    });
    const header = (name: string) => {
      const value = response.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const pauseMs = Number(header(EXPECTED_PAUSE_HEADER) ?? 0);
    const estimated = Number(header(ESTIMATED_SIZE_HEADER) ?? 0);
    const heapUsed = header(HEAP_USED_HEADER);
    const paused = opts.worker === undefined ? 'the process is paused' : `worker "${opts.worker}" is paused`;
    // Node before 22.16 cannot tell a worker's heap size: no estimate to show.
    spinner.text(heapUsed === undefined ? `snapshotting; ${paused}…` : `snapshotting ${formatBytes(Number(heapUsed))} of heap; ${paused} (expected ~${formatDuration(pauseMs / 1000)})…`);

    let firstByteAt = 0;
    let received = 0;
    const progress = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        if (received === 0) firstByteAt = performance.now();
        received += chunk.length;
        const seconds = (performance.now() - firstByteAt) / 1000;
        spinner.text(`downloading ${formatBytes(received)}${estimated > 0 && !opts.gzip ? ` of ~${formatBytes(estimated)}` : ''}${seconds > 0.5 ? ` at ${formatBytes(received / seconds)}/s` : ''}`);
        done(null, chunk);
      },
    });
    const compressed = header('content-encoding') === 'gzip';
    const stages: NodeJS.ReadWriteStream[] = [];
    if (compressed && !opts.gzip) stages.push(createGunzip({ chunkSize: STREAM_CHUNK_BYTES }));
    if (!compressed && opts.gzip) stages.push(createGzip({ level: 1, chunkSize: STREAM_CHUNK_BYTES }));
    try {
      await pipeline([response.body, ...stages, progress, file.stream()], { signal: ctx.signal });
    } catch (error) {
      throw transferFailure(error, { client, signal: ctx.signal, where: destination.dir, outcome: '; no file was written', progress: ` after ${formatBytes(received)}` });
    }
    // The snapshot failed after its 200 was sent (its disk filled up): the reason is in a trailer.
    const failedLate = client.trailerError(response);
    if (failedLate !== null) throw failedLate;
    const downloadedAt = performance.now();

    spinner.text('verifying the snapshot…');
    let nodes: number;
    try {
      nodes = (await validateHeapSnapshot(file.tempPath)).nodeCount;
    } catch (error) {
      throw new CliError('INCOMPLETE_DOWNLOAD', `the downloaded snapshot is not complete: ${(error as Error).message}; no file was written`, { cause: error });
    }
    const fallback = `heap-${new Date().toISOString().replace(/[-:.]/g, '')}.heapsnapshot`;
    const name = destination.file ?? `${suggestedName(header('content-disposition'), fallback)}${opts.gzip ? '.gz' : ''}`;
    const path = join(destination.dir, name);
    // Stopped while verifying: the operator asked for nothing to be written.
    if (ctx.signal.aborted) throw new CliError('CANCELLED', 'cancelled; no file was written');
    await file.commit(path, opts.force);
    spinner.stop();

    const after = await client.json<MemoryResponse>('/memory');
    const finished = performance.now();
    return {
      path,
      bytes: (await stat(path)).size,
      gzip: opts.gzip,
      nodes,
      snapshotMs: Math.round((firstByteAt || downloadedAt) - started),
      downloadMs: Math.round(downloadedAt - (firstByteAt || downloadedAt)),
      totalMs: Math.round(finished - started),
      instance: header(INSTANCE_HEADER) ?? null,
      worker: opts.worker ?? null,
      rssBeforeBytes: before.process.rss,
      rssAfterBytes: after.process.rss,
    };
  } catch (error) {
    spinner.stop();
    await file.discard();
    throw error;
  }
}
