// opsctl heapdump --out PATH: a heap snapshot of the target process, written
// atomically and verified complete before it appears under its name.
import { stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { ESTIMATED_SIZE_HEADER, EXPECTED_PAUSE_HEADER, HEAP_USED_HEADER, INSTANCE_HEADER, type MemoryResponse } from '@opsctl/endpoint/protocol';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { AtomicFile } from '../files.js';
import { validateHeapSnapshot } from '../heapsnapshot/validate.js';
import { formatBytes, formatDuration } from '../ui/format.js';

export interface HeapdumpOptions {
  out: string;
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

const ZLIB_CHUNK_BYTES = 1024 * 1024;

export interface Destination {
  dir: string;
  /** Null when PATH is a directory: the name comes from the endpoint. */
  file: string | null;
}

export async function runHeapdump(opts: HeapdumpOptions, ctx: Context): Promise<HeapdumpResult> {
  const destination = await resolveDestination(opts);
  const client = await ctx.client();
  const before = await client.json<MemoryResponse>('/memory');
  const file = await AtomicFile.create(destination.dir);
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
    // Big output chunks: each becomes one async file write, and 16 KiB ones (zlib's
    // default) made the download four times slower through the thread pool.
    if (compressed && !opts.gzip) stages.push(createGunzip({ chunkSize: ZLIB_CHUNK_BYTES }));
    if (!compressed && opts.gzip) stages.push(createGzip({ level: 1, chunkSize: ZLIB_CHUNK_BYTES }));
    try {
      await pipeline([response.body, ...stages, progress, file.stream()], { signal: ctx.signal });
    } catch (error) {
      if (ctx.signal.aborted) throw new CliError('CANCELLED', 'cancelled; no file was written', { cause: error });
      throw new CliError('INCOMPLETE_DOWNLOAD', `the download from ${client.url.host} ended early after ${formatBytes(received)}; no file was written`, {
        hint: 'the process may have exited or restarted; run: opsctl status',
        cause: error,
      });
    }
    const downloadedAt = performance.now();

    spinner.text('verifying the snapshot…');
    let nodes: number;
    try {
      nodes = (await validateHeapSnapshot(file.tempPath)).nodeCount;
    } catch (error) {
      throw new CliError('INCOMPLETE_DOWNLOAD', `the downloaded snapshot is not complete: ${(error as Error).message}; no file was written`, { cause: error });
    }
    const name = destination.file ?? defaultName(header('content-disposition'), opts.gzip);
    const path = join(destination.dir, name);
    await file.commit(path, opts.force);
    spinner.stop();

    const after = await client.json<MemoryResponse>('/memory');
    const finished = performance.now();
    const result: HeapdumpResult = {
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
    ctx.out.result(result, (r, c) =>
      [
        `${c.green('✔')} Heap snapshot${r.worker === null ? '' : ` of worker "${r.worker}"`} written to ${c.bold(r.path)} (${formatBytes(r.bytes)}, ${r.nodes.toLocaleString('en-US')} objects)`,
        `  snapshot ${formatDuration(r.snapshotMs / 1000)} (${r.worker === null ? 'process' : 'worker'} paused), download ${formatDuration(r.downloadMs / 1000)}`,
        `  process memory (RSS) ${formatBytes(r.rssBeforeBytes)} before, ${formatBytes(r.rssAfterBytes)} after: freed pages often stay with the process; avoid snapshots in a loop`,
        `  open it in Chrome DevTools: Memory tab → Load profile…${r.gzip ? ' (gunzip it first)' : ''}`,
      ].join('\n'),
    );
    return result;
  } catch (error) {
    spinner.stop();
    await file.discard();
    throw error;
  }
}

/** PATH is a directory (existing, or written with a trailing slash) or a file in an existing directory. */
export async function resolveDestination(opts: { out: string; force: boolean }): Promise<Destination> {
  const path = resolve(opts.out);
  const isDir = await stat(path).then((s) => s.isDirectory(), () => null);
  if (isDir === true) return { dir: path, file: null };
  if (opts.out.endsWith('/')) throw new CliError('USAGE', `the directory ${path} does not exist`, { hint: `create it first: mkdir -p ${path}` });
  const dir = dirname(path);
  const dirExists = await stat(dir).then((s) => s.isDirectory(), () => false);
  if (!dirExists) throw new CliError('USAGE', `the directory ${dir} does not exist`, { hint: `create it first: mkdir -p ${dir}` });
  if (isDir === false && !opts.force) throw new CliError('FILE_EXISTS', `${path} already exists`, { hint: 'choose another --out, or pass --force to replace it' });
  return { dir, file: basename(path) };
}

/** The endpoint's suggested file name (made safe), or a fallback. */
function defaultName(disposition: string | undefined, gzip: boolean): string {
  const suggested = /filename="([^"]+)"/.exec(disposition ?? '')?.[1];
  const name = suggested ? basename(suggested).replace(/[^A-Za-z0-9._-]+/g, '_') : `heap-${new Date().toISOString().replace(/[-:.]/g, '')}.heapsnapshot`;
  return gzip ? `${name}.gz` : name;
}

