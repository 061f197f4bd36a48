// Taking a heap snapshot of a process and writing it to disk, atomically and verified
// complete before it appears under its name: the operation behind opsctl heapdump, and
// behind the commands that take snapshots as part of their work (check, leaks --diff,
// fleet --heapdump-worst), which print their own account of it.
//
// The endpoint sends the snapshot while V8 is still writing it, so the download, its
// verification (on the bytes as they arrive) and the write to disk all overlap the
// pause; what is left once V8's write has returned is the last bytes, fsync and rename.
// The CLI tells an endpoint it reaches through loopback which kernel it runs on
// (KERNEL_HEADER): on the same machine the endpoint sends the bytes uncompressed, since
// gzip would cost both sides CPU to save a copy through memory; to anywhere else, gzip
// level 1. Loopback is necessary, not sufficient (kubectl port-forward is loopback on
// both sides): the key decides, and no other host learns it. On the same machine the CLI
// also lowers its own CPU priority, so that V8's writer keeps a core (cpu-priority.ts).
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGunzip, createGzip } from 'node:zlib';
import {
  ESTIMATED_SIZE_HEADER,
  EXPECTED_PAUSE_HEADER,
  HEAP_USED_HEADER,
  INSTANCE_HEADER,
  isLoopback,
  KERNEL_HEADER,
  kernelKey,
  PAUSE_TRAILER,
  type MemoryResponse,
} from '../endpoint/protocol.js';
import { transferFailure } from '../client/download.js';
import type { Client } from '../client/http.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { AtomicFile, type Destination, STREAM_CHUNK_BYTES, suggestedName, withDestination } from '../files.js';
import { isHeapSnapshotError } from '../heapsnapshot/errors.js';
import { VerifyingStream } from '../heapsnapshot/verify-stream.js';
import { formatBytes, formatDuration } from '../ui/format.js';
import { yieldCpuToLocalProcess } from './cpu-priority.js';

/**
 * How long a command waits, all told, for the endpoint's pacing of heap snapshots (after
 * a snapshot that paused the process for P, the next may start P later: see the
 * endpoint's SnapshotPacing, packages/endpoint/src/diagnostics/snapshot-preflight.ts)
 * before it gives up with the endpoint's refusal.
 */
const PACING_WAIT_MAX_MS = 30_000;
const PACING_RETRY_MIN_MS = 250;
/** How long the spinner waits for the answer to begin before it shows (see snapshotTo). */
const SPINNER_DELAY_MS = 100;

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
  /** How long V8 took to write the snapshot: the process (or worker) was paused that long. */
  snapshotMs: number;
  /** How long after V8's write had returned the file was in place. */
  downloadMs: number;
  totalMs: number;
  instance: string | null;
  /** The worker thread snapshotted; null for the main thread. */
  worker: string | null;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  /** Where the time went, in ms; the stages overlap, see HeapdumpStages. */
  stages: HeapdumpStages;
}

interface HeapdumpStages {
  /** From this process's start to the answer's headers: start-up, /memory, the request. */
  untilHeadersMs: number;
  /** V8 writing the snapshot (the endpoint's figure). */
  pauseMs: number;
  /** From V8's write returning (headers + pause) to the file in place under its name. */
  afterWriteMs: number;
  /** Of that, until the last byte had arrived, been verified and been written. */
  endpointTailMs: number;
  /** Time spent verifying, all told: it overlaps the download. */
  verifyMs: number;
  fsyncMs: number;
  renameMs: number;
  /** From this process's start to the end of the command. */
  doneAtMs: number;
  /** The CLI lowered its own CPU priority (nice 19): the process is on this machine. */
  lowPriority: boolean;
  /** What crossed the wire: gzip or identity, and how many bytes. */
  wireEncoding: 'gzip' | 'identity';
  wireBytes: number;
}

/** Takes a heap snapshot of the process `client` talks to and writes it where `opts` says; prints only progress. */
export async function takeHeapSnapshot(opts: HeapdumpOptions, client: Client, ctx: Context): Promise<HeapdumpResult> {
  return withDestination({ ...opts, cwd: ctx.cwd }, (destination) => snapshotTo(destination, opts, client, ctx));
}

async function snapshotTo(destination: Destination, opts: HeapdumpOptions, client: Client, ctx: Context): Promise<HeapdumpResult> {
  const before = await client.json<MemoryResponse>('/memory');
  const file = await AtomicFile.create(destination.dir, (text) => ctx.out.info(text));
  const kernel = isLoopback(client.url.hostname) ? kernelKey() : null;
  let headersAt = 0;
  const ask = () => {
    const asked = client.request('/heapdump', {
      query: { skipMemoryCheck: opts.skipMemoryCheck || undefined, worker: opts.worker },
      headers: { 'accept-encoding': 'gzip', ...(kernel === null ? {} : { [KERNEL_HEADER]: kernel }) },
      stream: true,
    });
    // When the answer began, whatever this process was doing then (loading the spinner).
    asked.then(() => {
      headersAt = performance.now();
    }, noop); // the rejection is awaited below: not unhandled meanwhile
    return asked;
  };
  let started = performance.now();
  let pending = ask();
  // The spinner (ora: ~50 ms to load in a terminal) is made once the answer has begun, or
  // after SPINNER_DELAY_MS: made first, it delayed the request, and so the snapshot. The
  // answer begins before V8 does, and this process has nothing else to do while V8 works.
  await Promise.race([pending.then(noop, noop), sleep(SPINNER_DELAY_MS, undefined, { ref: false })]);
  const spinner = await ctx.out.spinner('requesting a heap snapshot…').catch(async (error: unknown) => {
    await file.discard();
    throw error;
  });
  try {
    let response: Awaited<ReturnType<typeof ask>>;
    // Refused because the previous snapshot paused the process a moment ago: wait as long
    // as the endpoint says, a few times, up to PACING_WAIT_MAX_MS in all.
    for (let waitedMs = 0; ; ) {
      try {
        response = await pending;
        break;
      } catch (error) {
        // Lost before the answer began (the process died as V8 started): nothing arrived.
        if (error instanceof CliError && error.code === 'CONNECTION_LOST')
          throw client.connectionLost(error, { progress: ' after 0 B', outcome: '; no file was written' });
        const retryInMs = error instanceof CliError && error.code === 'ENDPOINT_BUSY' ? error.retryInMs : undefined;
        if (retryInMs === undefined) throw error;
        // At least PACING_RETRY_MIN_MS apart: an endpoint answering "retry in 0 ms" is not asked in a tight loop.
        const waitMs = Math.max(retryInMs, PACING_RETRY_MIN_MS);
        if (waitedMs + waitMs > PACING_WAIT_MAX_MS) throw error;
        spinner.text(`${(error as CliError).message}; waiting…`);
        await sleep(waitMs, undefined, { signal: ctx.signal }).catch(() => {
          throw new CliError('CANCELLED', 'cancelled; no file was written');
        });
        waitedMs += waitMs;
        started = performance.now();
        pending = ask();
      }
    }
    const header = (name: string) => {
      const value = response.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const pauseMs = Number(header(EXPECTED_PAUSE_HEADER) ?? 0);
    const estimated = Number(header(ESTIMATED_SIZE_HEADER) ?? 0);
    const heapUsed = header(HEAP_USED_HEADER);
    const paused = opts.worker === undefined ? 'the process is paused' : `worker "${opts.worker}" is paused`;
    // Node before 22.16 cannot tell a worker's heap size: no estimate to show.
    spinner.text(
      heapUsed === undefined
        ? `snapshotting; ${paused}…`
        : `snapshotting ${formatBytes(Number(heapUsed))} of heap; ${paused} (expected ~${formatDuration(pauseMs / 1000)})…`,
    );

    let firstByteAt = 0;
    let received = 0;
    const progress = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        if (received === 0) firstByteAt = performance.now();
        received += chunk.length;
        const seconds = (performance.now() - firstByteAt) / 1000;
        spinner.text(
          `downloading ${formatBytes(received)}${estimated > 0 && !opts.gzip ? ` of ~${formatBytes(estimated)}` : ''}${seconds > 0.5 ? ` at ${formatBytes(received / seconds)}/s` : ''}`,
        );
        done(null, chunk);
      },
    });
    // The file gets what was asked for (the JSON, or gzip with --gzip), the scanner always the JSON.
    const compressed = header('content-encoding') === 'gzip';
    // The endpoint sent our kernel's key back: the process is on this machine, paused
    // while V8 writes, and this CLI's work would compete with V8's writer.
    const lowPriority = kernel !== null && header(KERNEL_HEADER) === kernel;
    if (lowPriority) yieldCpuToLocalProcess();
    const stages: NodeJS.ReadWriteStream[] = [];
    let verify: VerifyingStream;
    if (compressed && opts.gzip) stages.push((verify = new VerifyingStream({ compressed: true, chunkSize: STREAM_CHUNK_BYTES })));
    else {
      if (compressed) stages.push(createGunzip({ chunkSize: STREAM_CHUNK_BYTES }));
      stages.push((verify = new VerifyingStream()));
      if (opts.gzip) stages.push(createGzip({ level: 1, chunkSize: STREAM_CHUNK_BYTES }));
    }
    try {
      await pipeline([response.body, progress, ...stages, file.stream()], { signal: ctx.signal });
    } catch (error) {
      if (isHeapSnapshotError(error)) throw incomplete(error);
      // Stopped before the answer ended: V8 is most likely still writing, and nothing stops it.
      const stillPaused = ctx.signal.aborted
        ? `; ${opts.worker === undefined ? 'the process' : `worker "${opts.worker}"`} stays paused until V8 has written the whole snapshot${pauseMs > 0 ? ` (expected ~${formatDuration(pauseMs / 1000)} in all, ${formatDuration((performance.now() - headersAt) / 1000)} so far)` : ''}`
        : '';
      throw transferFailure(error, {
        client,
        signal: ctx.signal,
        where: destination.dir,
        outcome: `; no file was written${stillPaused}`,
        progress: ` after ${formatBytes(received)}`,
      });
    }
    // The snapshot failed after its 200 was sent (its disk filled up): the reason is in a trailer.
    const failedLate = client.trailerError(response);
    if (failedLate !== null) throw failedLate;
    const downloadedAt = performance.now();

    let nodes: number;
    try {
      nodes = verify.result().nodeCount;
    } catch (error) {
      throw incomplete(error);
    }
    const fallback = `heap-${new Date().toISOString().replace(/[-:.]/g, '')}.heapsnapshot`;
    const name = destination.file ?? `${suggestedName(header('content-disposition'), fallback)}${opts.gzip ? '.gz' : ''}`;
    const path = join(destination.dir, name);
    // Stopped while verifying: the operator asked for nothing to be written.
    if (ctx.signal.aborted) throw new CliError('CANCELLED', 'cancelled; no file was written');
    // Asked meanwhile: the snapshot is over on the endpoint's side.
    const asking = client.json<MemoryResponse>('/memory');
    asking.catch(() => {});
    const committed = await file.commit(path, opts.force);
    const renamedAt = performance.now();
    spinner.stop();

    const after = await asking;
    const finished = performance.now();
    // An endpoint from before the trailer: the pause is the wait for the first byte.
    const pauseTrailer = Number(response.trailers[PAUSE_TRAILER]);
    const snapshotMs = Number.isFinite(pauseTrailer) ? pauseTrailer : (firstByteAt || downloadedAt) - started;
    const writeReturnedAt = Math.min(headersAt + snapshotMs, downloadedAt);
    return {
      path,
      bytes: (await stat(path)).size,
      gzip: opts.gzip,
      nodes,
      snapshotMs: Math.round(snapshotMs),
      downloadMs: Math.round(renamedAt - writeReturnedAt),
      totalMs: Math.round(finished - started),
      instance: header(INSTANCE_HEADER) ?? null,
      worker: opts.worker ?? null,
      rssBeforeBytes: before.process.rss,
      rssAfterBytes: after.process.rss,
      stages: {
        untilHeadersMs: Math.round(headersAt),
        pauseMs: Math.round(snapshotMs),
        afterWriteMs: Math.round(renamedAt - writeReturnedAt),
        endpointTailMs: Math.round(downloadedAt - writeReturnedAt),
        verifyMs: Math.round(verify.scanMs),
        fsyncMs: Math.round(committed.syncMs),
        renameMs: Math.round(committed.renameMs),
        doneAtMs: Math.round(performance.now()),
        lowPriority,
        wireEncoding: compressed ? 'gzip' : 'identity',
        wireBytes: received,
      },
    };
  } catch (error) {
    spinner.stop();
    await file.discard();
    throw error;
  }
}

function noop(): void {}

function incomplete(error: unknown): CliError {
  return new CliError('INCOMPLETE_DOWNLOAD', `the downloaded snapshot is not complete: ${(error as Error).message}; no file was written`, { cause: error });
}
