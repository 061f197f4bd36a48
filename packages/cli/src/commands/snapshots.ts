// opsctl snapshots list | get ID [--out PATH] | remove ID: heap snapshots the endpoint captured
// by itself (its `capture` rules), fetched later. `get` downloads into a partial file
// beside PATH named after the capture and its checksum; when interrupted (network,
// Ctrl-C, a killed shell), running it again resumes from the partial file's size with an
// HTTP Range request, made conditional on the checksum (If-Range), so bytes of another
// file are never spliced on. The assembled file must match the SHA-256 the endpoint
// computed before it is decompressed, checked as a snapshot, and renamed to PATH. What
// the endpoint lists is checked before a local path is built from it: a malicious
// endpoint must not steer a write outside --out.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { ChalkInstance } from 'chalk';
import type { Dispatcher } from 'undici';
import { PATH_SEGMENT_PATTERN, type CapturedSnapshot, type CaptureStatus, type SnapshotDeleteResponse, type SnapshotsResponse } from '../endpoint/protocol.js';
import { transferFailure } from '../client/download.js';
import type { Client } from '../client/http.js';
import type { Context } from '../context.js';
import { CliError, isCliError } from '../errors.js';
import { AtomicFile, type Destination, isFileSystemError, STREAM_CHUNK_BYTES, withDestination } from '../files.js';
import { validateHeapSnapshot } from '../heapsnapshot/validate.js';
import type { Spinner } from '../ui/output.js';
import { formatBytes, formatDuration } from '../ui/format.js';

export interface SnapshotGetOptions {
  id: string;
  /** A file, or a directory; the current directory when absent. */
  out?: string;
  force: boolean;
  /** Keep the file gzip-compressed, as stored. */
  gzip: boolean;
  /** At most this many bytes per second (spares the application's network). */
  limitRate?: number;
}

export interface SnapshotGetResult {
  id: string;
  path: string;
  /** Bytes on disk (compressed with --gzip). */
  bytes: number;
  gzip: boolean;
  nodes: number;
  sha256: string;
  /** Where this run's download started: 0, or the size of the partial file it resumed. */
  resumedFrom: number;
  capture: CapturedSnapshot;
}

export async function runSnapshotsList(ctx: Context): Promise<SnapshotsResponse> {
  const client = await ctx.client();
  const response = await client.json<SnapshotsResponse>('/snapshots');
  ctx.out.result(response, (r, c) => renderList(r, c, ctx.now()));
  return response;
}

/**
 * Throws USAGE unless `id` is one the endpoint's router accepts in a path: a mistyped or
 * pasted id is a usage error, not a request.
 */
function checkSnapshotId(id: string): void {
  if (PATH_SEGMENT_PATTERN.test(id)) return;
  const shown = JSON.stringify(id.length > 40 ? `${id.slice(0, 40)}…` : id);
  throw new CliError('USAGE', `${shown} is not a capture id: ids are 1-128 letters, digits, ".", "_" or "-"`, {
    hint: 'list the captures: opsctl snapshots list',
  });
}

export async function runSnapshotRemove(id: string, ctx: Context): Promise<SnapshotDeleteResponse> {
  checkSnapshotId(id);
  const client = await ctx.client();
  const response = await client.json<SnapshotDeleteResponse>(`/snapshots/${encodeURIComponent(id)}`, { method: 'DELETE' });
  ctx.out.result(response, (r, c) => `${c.green('✔')} Removed ${c.bold(r.deleted.id)} (${formatBytes(r.deleted.bytes)})`);
  return response;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** The listed capture, once its fields that name files and size downloads are sound. */
function checkListed(entry: CapturedSnapshot): CapturedSnapshot {
  if (
    PATH_SEGMENT_PATTERN.test(entry.id) &&
    typeof entry.sha256 === 'string' &&
    SHA256.test(entry.sha256) &&
    Number.isSafeInteger(entry.bytes) &&
    entry.bytes >= 0
  )
    return entry;
  throw new CliError(
    'BAD_RESPONSE',
    `the endpoint listed ${JSON.stringify(String(entry.id).slice(0, 40))} with an id, checksum or size that is not valid; nothing was written`,
    {
      hint: 'is it an opsctl endpoint you trust? check the URL: opsctl status',
    },
  );
}

export async function runSnapshotGet(opts: SnapshotGetOptions, ctx: Context): Promise<SnapshotGetResult> {
  checkSnapshotId(opts.id);
  return withDestination({ ...opts, cwd: ctx.cwd }, (destination) => getSnapshotTo(destination, opts, ctx));
}

async function getSnapshotTo(destination: Destination, opts: SnapshotGetOptions, ctx: Context): Promise<SnapshotGetResult> {
  const client = await ctx.client();
  const { snapshots } = await client.json<SnapshotsResponse>('/snapshots');
  const listed = snapshots.find((s) => s.id === opts.id);
  if (listed === undefined) {
    throw new CliError('ENDPOINT_UNKNOWN_SNAPSHOT', `no captured heap snapshot has the id "${opts.id}"`, { hint: 'list the captures: opsctl snapshots list' });
  }
  const entry = checkListed(listed);
  // Named by the capture and its checksum: a rerun finds it whatever --out says.
  const partial = join(destination.dir, `.${entry.id}.${entry.sha256.slice(0, 16)}.opsctl-partial`);
  const spinner = await ctx.out.spinner(`fetching ${entry.id}…`);
  try {
    let have = await sizeOf(partial);
    if (have > entry.bytes) {
      await rm(partial, { force: true });
      have = 0;
    }
    const resumedFrom = have < entry.bytes ? await download(client, entry, partial, have, opts, spinner, ctx) : have;

    spinner.text('verifying the checksum…');
    if ((await sha256Of(partial)) !== entry.sha256) {
      await rm(partial, { force: true });
      throw new CliError('CHECKSUM_MISMATCH', `the downloaded bytes of ${entry.id} do not match the checksum the endpoint computed; no file was written`, {
        hint: 'run the same command again to download it afresh',
      });
    }
    spinner.text(opts.gzip ? 'checking the snapshot…' : 'decompressing and checking the snapshot…');
    const file = await AtomicFile.create(destination.dir, (text) => ctx.out.info(text));
    let nodes: number;
    let path: string;
    try {
      const stages: NodeJS.ReadWriteStream[] = opts.gzip ? [] : [createGunzip({ chunkSize: STREAM_CHUNK_BYTES })];
      await pipeline([createReadStream(partial, { highWaterMark: STREAM_CHUNK_BYTES }), ...stages, file.stream()], { signal: ctx.signal });
      nodes = (await validateHeapSnapshot(file.tempPath)).nodeCount;
      path = join(destination.dir, destination.file ?? `${entry.id}.heapsnapshot${opts.gzip ? '.gz' : ''}`);
      if (ctx.signal.aborted) throw new CliError('CANCELLED', 'cancelled');
      await file.commit(path, opts.force);
    } catch (error) {
      await file.discard();
      if (ctx.signal.aborted) throw new CliError('CANCELLED', 'cancelled; the verified download is kept, run again to finish', { cause: error });
      if (isCliError(error)) throw error;
      if (isFileSystemError(error))
        throw transferFailure(error, { client, signal: ctx.signal, where: destination.dir, outcome: '; the verified download is kept, run again to finish' });
      throw new CliError('BAD_SNAPSHOT', `${entry.id} is not a valid heap snapshot: ${(error as Error).message}`, { cause: error });
    }
    await rm(partial, { force: true });
    spinner.stop();
    const result: SnapshotGetResult = {
      id: entry.id,
      path,
      bytes: (await stat(path)).size,
      gzip: opts.gzip,
      nodes,
      sha256: entry.sha256,
      resumedFrom,
      capture: entry,
    };
    ctx.out.result(result, (r, c) =>
      [
        `${c.green('✔')} Snapshot ${r.id} written to ${c.bold(r.path)} (${formatBytes(r.bytes)}, ${r.nodes.toLocaleString('en-US')} objects); SHA-256 verified`,
        ...(r.resumedFrom > 0 ? [`  resumed an interrupted download at ${formatBytes(r.resumedFrom)} of ${formatBytes(r.capture.bytes)}`] : []),
        `  captured ${r.capture.time} by rule ${r.capture.rule}: ${r.capture.reason}`,
        `  open it in Chrome DevTools: Memory tab → Load profile…${r.gzip ? ' (gunzip it first)' : ''}`,
      ].join('\n'),
    );
    return result;
  } finally {
    spinner.stop();
  }
}

/** Downloads the rest of `entry` into `partial`; resolves with the offset it started at. */
async function download(
  client: Client,
  entry: CapturedSnapshot,
  partial: string,
  have: number,
  opts: SnapshotGetOptions,
  spinner: Spinner,
  ctx: Context,
): Promise<number> {
  const etag = `"${entry.sha256}"`;
  let response: Dispatcher.ResponseData;
  try {
    response = await client.request(`/snapshots/${entry.id}`, {
      headers: have > 0 ? { range: `bytes=${have}-`, 'if-range': etag } : {},
      stream: true,
    });
  } catch (error) {
    // The partial file is not a prefix of this capture after all: start over.
    if (have > 0 && isCliError(error) && error.code === 'ENDPOINT_RANGE_NOT_SATISFIABLE') {
      await rm(partial, { force: true });
      return download(client, entry, partial, 0, opts, spinner, ctx);
    }
    // Removed since it was listed: its partial file can never be completed.
    if (isCliError(error) && error.code === 'ENDPOINT_UNKNOWN_SNAPSHOT') await rm(partial, { force: true });
    throw error;
  }
  const start = response.statusCode === 206 ? rangeStart(response.headers['content-range']) : 0;
  if (response.headers['etag'] !== etag || (response.statusCode === 206 && start !== have)) {
    response.body.destroy();
    throw new CliError('BAD_RESPONSE', `the endpoint sent other bytes of ${entry.id} than were asked for; no file was written`, {
      hint: 'run the same command again',
    });
  }
  let received = start;
  const began = performance.now();
  const progress = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      const seconds = (performance.now() - began) / 1000;
      const rate = seconds > 0.5 ? ` at ${formatBytes((received - start) / seconds)}/s` : '';
      spinner.text(`downloading ${formatBytes(received)} of ${formatBytes(entry.bytes)}${start > 0 ? ` (resumed at ${formatBytes(start)})` : ''}${rate}`);
      done(null, chunk);
    },
  });
  const stages: NodeJS.ReadWriteStream[] = opts.limitRate === undefined ? [] : [rateLimit(opts.limitRate)];
  try {
    await pipeline([response.body, ...stages, progress, createWriteStream(partial, { flags: start > 0 ? 'a' : 'w', mode: 0o600 })], { signal: ctx.signal });
  } catch (error) {
    const kept = await sizeOf(partial);
    const failure = transferFailure(error, {
      client,
      signal: ctx.signal,
      where: partial,
      outcome: '; run the same command again to resume',
      progress: ` after ${formatBytes(kept)} of ${formatBytes(entry.bytes)}`,
    });
    throw failure.code === 'CANCELLED'
      ? new CliError('CANCELLED', `cancelled after ${formatBytes(kept)} of ${formatBytes(entry.bytes)}; run the same command again to resume`, { cause: error })
      : failure;
  }
  return start;
}

/** Passes bytes on no faster than `bytesPerSecond` on average. */
function rateLimit(bytesPerSecond: number): Transform {
  const began = performance.now();
  let passed = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      passed += chunk.length;
      const wait = began + (passed / bytesPerSecond) * 1000 - performance.now();
      if (wait > 0) setTimeout(() => done(null, chunk), wait);
      else done(null, chunk);
    },
  });
}

function rangeStart(header: string | string[] | undefined): number {
  const value = Array.isArray(header) ? header[0] : header;
  const match = /^bytes (\d+)-\d+\/\d+$/.exec(value ?? '');
  return match ? Number(match[1]) : -1;
}

async function sizeOf(path: string): Promise<number> {
  return stat(path).then(
    (s) => s.size,
    () => 0,
  );
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: STREAM_CHUNK_BYTES })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function renderList(response: SnapshotsResponse, c: ChalkInstance, now: number): string {
  const lines = renderCapture(response.capture, c, now);
  if (response.snapshots.length === 0) {
    lines.push('', 'No captures stored.');
    return lines.join('\n');
  }
  const idWidth = Math.max(2, ...response.snapshots.map((s) => s.id.length));
  lines.push('', c.dim(`${'ID'.padEnd(idWidth)}  ${'CAPTURED (UTC)'.padEnd(19)}  ${'RULE'.padEnd(15)}  ${'STORED'.padStart(9)}  ${'HEAP'.padStart(9)}`));
  for (const s of response.snapshots) {
    lines.push(
      `${s.id.padEnd(idWidth)}  ${s.time.slice(0, 19).replace('T', ' ')}  ${s.rule.padEnd(15)}  ${formatBytes(s.bytes).padStart(9)}  ${formatBytes(s.heapUsedBytes).padStart(9)}`,
    );
  }
  lines.push('', 'Fetch one: opsctl snapshots get ID --out DIR/');
  return lines.join('\n');
}

function renderCapture(capture: CaptureStatus, c: ChalkInstance, now: number): string[] {
  if (!capture.enabled) return [`${c.bold('capture')}  ${c.red('disabled')}: ${capture.disabledReason ?? 'unknown reason'}`];
  const rules = [
    capture.rules.heapAboveBytes === null ? null : `heap above ${formatBytes(capture.rules.heapAboveBytes)}`,
    capture.rules.onLeakSuspected ? 'leak suspected' : null,
    capture.rules.nearHeapLimitRatio === null ? null : `heap at ${Math.round(capture.rules.nearHeapLimitRatio * 100)}% of its limit`,
  ].filter((rule) => rule !== null);
  const lines = [
    `${c.bold('capture')}  ${c.green('on')}: ${rules.join(', ')}; at most one per ${formatDuration(capture.cooldownMs / 1000)}`,
    `         ${capture.count} of ${capture.maxCount} stored, ${formatBytes(capture.diskBytes)} of ${formatBytes(capture.maxDiskBytes)} in ${capture.dir}`,
  ];
  const last = capture.lastEvent;
  if (last !== null) {
    const ago = formatDuration(Math.max(0, now - Date.parse(last.time)) / 1000);
    lines.push(`         last: ${last.outcome}${last.reason === null ? '' : ` (${last.reason})`} ${ago} ago: ${last.message}`);
  }
  return lines;
}
