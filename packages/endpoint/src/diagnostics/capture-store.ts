// The directory of automatically captured heap snapshots. Each capture is two files:
// `<id>.heapsnapshot.gz` (the snapshot, gzip level 1: 6-7x smaller, so a disk budget
// holds more of them and downloads are shorter) and `<id>.json` (its metadata, with the
// SHA-256 of the stored bytes). Both appear by rename from a private temp directory
// (`.opsctl-capture-<pid>-<random>`, mode 0700: snapshots hold every secret of the
// process), the metadata last, so a listed capture is always complete. What a crash
// leaves behind (temp directories of dead processes, a snapshot without its metadata)
// is removed when the store is opened.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { writeHeapSnapshot } from 'node:v8';
import { createGzip, constants as zlib } from 'node:zlib';
import { CAPTURE_ID_PATTERN, type CapturedSnapshot, type CaptureRule } from '../protocol/index.js';
import { PAUSE_MS_PER_HEAP_MB } from './heap-snapshot.js';
import { makePrivateTempDir, removeStaleTempDirs } from './temp-dirs.js';

const TEMP_PREFIX = '.opsctl-capture-';
const SNAPSHOT_SUFFIX = '.heapsnapshot.gz';
const META_SUFFIX = '.json';
// 1 MiB zlib output chunks: fewer, larger file writes (as for /heapdump downloads).
const ZLIB_CHUNK_BYTES = 1024 * 1024;

/**
 * A directory made here is mode 0700; one that existed keeps its mode, which may let
 * others list the captures (each file is 0600 all the same): say so once, with the fix.
 */
async function warnIfOpen(dir: string): Promise<void> {
  const { mode } = await stat(dir);
  if ((mode & 0o077) === 0) return;
  const octal = (mode & 0o777).toString(8).padStart(3, '0');
  process.emitWarning(
    `opsctl: the capture directory ${dir} has mode ${octal}: other users can list the heap snapshots kept there (each holds every secret of the process); run: chmod 700 ${dir}`,
    { code: 'OPSCTL_CAPTURE_DIR_MODE' },
  );
}

function isCaptureId(id: string): boolean {
  return CAPTURE_ID_PATTERN.test(id);
}

export interface StoredCapture {
  entry: CapturedSnapshot;
  /** The snapshot file. */
  path: string;
}

/** Called before a snapshot blocks the thread, with its expected pause; returns the function to call after. */
export type SnapshotAnnouncer = (expectedPauseMs: number) => () => void;

export class CaptureStore {
  readonly dir: string;
  readonly #announce: SnapshotAnnouncer;

  constructor(dir: string, announce: SnapshotAnnouncer = () => () => {}) {
    this.dir = dir;
    this.#announce = announce;
  }

  /**
   * Makes sure the directory exists and takes a file, and clears what crashed captures
   * left; resolves with null when usable, else with the reason as a sentence.
   */
  async open(): Promise<string | null> {
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await warnIfOpen(this.dir);
      const probe = await makePrivateTempDir(this.dir, TEMP_PREFIX);
      await writeFile(join(probe.path, 'probe'), '');
      await probe.remove();
    } catch (error) {
      return `the capture directory ${this.dir} cannot be written (${describeFsError(error)})`;
    }
    await this.#removeLeftovers();
    return null;
  }

  /** The stored captures, oldest first. Metadata without its snapshot, or of another size, is left out. */
  async list(): Promise<CapturedSnapshot[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const entries: CapturedSnapshot[] = [];
    for (const name of names) {
      if (!name.endsWith(META_SUFFIX) || !isCaptureId(name.slice(0, -META_SUFFIX.length))) continue;
      const stored = await this.#read(name.slice(0, -META_SUFFIX.length));
      if (stored !== null) entries.push(stored.entry);
    }
    return entries.sort((a, b) => a.id.localeCompare(b.id));
  }

  async find(id: string): Promise<StoredCapture | null> {
    return isCaptureId(id) ? this.#read(id) : null;
  }

  /** Removes a capture; resolves with what it was, or null when there was none. */
  async remove(id: string): Promise<CapturedSnapshot | null> {
    const stored = await this.find(id);
    if (stored === null) return null;
    // Metadata first: a capture half removed is no longer listed.
    await rm(join(this.dir, `${id}${META_SUFFIX}`), { force: true });
    await rm(stored.path, { force: true });
    return stored.entry;
  }

  /**
   * Writes a heap snapshot (the event loop is blocked meanwhile), compresses it, checks
   * the stored bytes' SHA-256 and stores the metadata. `signal` aborts the compression.
   */
  async write(rule: CaptureRule, reason: string, app: string, heapUsedBytes: number, signal: AbortSignal): Promise<CapturedSnapshot> {
    const now = new Date();
    const id = `${now
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}-${rule}-${randomBytes(3).toString('hex')}`;
    const tempDir = await makePrivateTempDir(this.dir, TEMP_PREFIX);
    const temp = tempDir.path;
    try {
      const raw = join(temp, 'snapshot.heapsnapshot');
      const started = performance.now();
      const done = this.#announce(Math.round((heapUsedBytes / 1024 / 1024) * PAUSE_MS_PER_HEAP_MB));
      try {
        writeHeapSnapshot(raw);
      } finally {
        done();
      }
      const pauseMs = Math.round(performance.now() - started);
      const snapshotBytes = (await stat(raw)).size;

      const gz = join(temp, `${id}${SNAPSHOT_SUFFIX}`);
      await pipeline(
        createReadStream(raw, { highWaterMark: ZLIB_CHUNK_BYTES }),
        createGzip({ level: zlib.Z_BEST_SPEED, chunkSize: ZLIB_CHUNK_BYTES }),
        createWriteStream(gz, { mode: 0o600 }),
        { signal },
      );
      await rm(raw);
      await fsync(gz);
      // Hashed from the disk after writing: the checksum vouches for what is stored.
      const sha256 = await sha256Of(gz);
      const entry: CapturedSnapshot = {
        id,
        time: now.toISOString(),
        rule,
        reason,
        bytes: (await stat(gz)).size,
        sha256,
        snapshotBytes,
        heapUsedBytes,
        pauseMs,
        app,
        host: hostname(),
        pid: process.pid,
      };
      const meta = join(temp, `${id}${META_SUFFIX}`);
      await writeFile(meta, `${JSON.stringify(entry, null, 2)}\n`, { mode: 0o600 });
      await fsync(meta);
      await rename(gz, join(this.dir, `${id}${SNAPSHOT_SUFFIX}`));
      await rename(meta, join(this.dir, `${id}${META_SUFFIX}`));
      return entry;
    } finally {
      await tempDir.remove();
    }
  }

  async #read(id: string): Promise<StoredCapture | null> {
    try {
      const entry = JSON.parse(await readFile(join(this.dir, `${id}${META_SUFFIX}`), 'utf8')) as CapturedSnapshot;
      const path = join(this.dir, `${id}${SNAPSHOT_SUFFIX}`);
      if (entry.id !== id || (await stat(path)).size !== entry.bytes) return null;
      return { entry, path };
    } catch {
      return null;
    }
  }

  /** Temp directories of processes gone (see temp-dirs.ts); snapshots without metadata. */
  async #removeLeftovers(): Promise<void> {
    await removeStaleTempDirs(this.dir, TEMP_PREFIX);
    const names = await readdir(this.dir).catch(() => [] as string[]);
    for (const name of names) {
      const orphan =
        name.endsWith(SNAPSHOT_SUFFIX) && isCaptureId(name.slice(0, -SNAPSHOT_SUFFIX.length)) && !names.includes(name.replace(SNAPSHOT_SUFFIX, META_SUFFIX));
      if (orphan) await rm(join(this.dir, name), { force: true }).catch(() => {});
    }
  }
}

async function fsync(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: ZLIB_CHUNK_BYTES })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'ENOENT':
      return 'no such directory';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    default:
      return code ?? (error as Error).message;
  }
}
