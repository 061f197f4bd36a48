// Atomic file writes: a temp file beside the target, fsync, rename. A crash or an
// interrupted download never leaves a half-written file under the requested name, and
// the temp files of a killed opsctl are swept by the next download (files-sweep.ts).
// And where a download goes: --out as a file or a directory, and a safe name for it.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { BatchedFileStream } from './batched-file-stream.js';
import { CliError } from './errors.js';
import { downloadTempName, sweepStaleDownloads } from './files-sweep.js';
import { formatBytes } from './ui/format.js';

/**
 * Chunk size for downloads: file reads, and zlib's output. Big chunks: each becomes one
 * async file write, and 16 KiB ones (zlib's default) made a download four times slower
 * through the thread pool.
 */
export const STREAM_CHUNK_BYTES = 1024 * 1024;

export interface Destination {
  dir: string;
  /** Null when PATH is a directory: the name comes from the endpoint. */
  file: string | null;
  /** The outermost directory created for it (a trailing-slash --out), or null when none was. */
  created?: string | null;
}

/**
 * Where --out points: an existing directory; a directory to create, written with a
 * trailing slash (mode 0700: snapshots hold every secret of the process); or a file in
 * an existing directory. Without --out, the current directory.
 */
async function resolveDestination(opts: { out?: string | undefined; force: boolean; cwd: string }): Promise<Destination> {
  if (opts.out === undefined) return { dir: opts.cwd, file: null };
  const path = resolve(opts.cwd, opts.out);
  const isDir = await stat(path).then(
    (s) => s.isDirectory(),
    () => null,
  );
  if (isDir === true) return { dir: path, file: null };
  if (opts.out.endsWith('/')) {
    if (isDir === false)
      throw new CliError('USAGE', `${path} is a file, not a directory`, { hint: 'give a directory, or leave out the trailing / to name the file' });
    let created: string | undefined;
    try {
      created = await mkdir(path, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw fileError(error, path);
    }
    return { dir: path, file: null, created: created ?? null };
  }
  const dir = dirname(path);
  const dirExists = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!dirExists)
    throw new CliError('USAGE', `the directory ${dir} does not exist`, {
      hint: `end --out with / to create a directory (--out ${opts.out}/), or create it: mkdir -p ${dir}`,
    });
  if (isDir === false && !opts.force)
    throw new CliError('FILE_EXISTS', `${path} already exists`, { hint: 'choose another --out, or pass --force to replace it' });
  return { dir, file: basename(path) };
}

/**
 * Runs `write` with where --out points. When `write` fails or is cancelled, the directories
 * resolveDestination created for it are removed again if they are still empty: a
 * cancelled `--out ./prof/` leaves no empty ./prof/ behind. A directory holding anything
 * (a resumable partial download) is kept.
 */
export async function withDestination<T>(
  opts: { out?: string | undefined; force: boolean; cwd: string },
  write: (destination: Destination) => Promise<T>,
): Promise<T> {
  const destination = await resolveDestination(opts);
  try {
    return await write(destination);
  } catch (error) {
    await removeCreatedIfEmpty(destination);
    throw error;
  }
}

/** Removes the directories resolveDestination created, innermost first, while they are empty. */
async function removeCreatedIfEmpty(destination: Destination): Promise<void> {
  const created = destination.created ?? null;
  if (created === null) return;
  for (let dir = destination.dir; ; dir = dirname(dir)) {
    // rmdir removes only an empty directory: anything written there keeps it.
    if (
      !(await rmdir(dir).then(
        () => true,
        () => false,
      ))
    )
      return;
    if (dir === created || dirname(dir) === dir) return;
  }
}

/** The endpoint's suggested file name from a Content-Disposition header, made safe; else `fallback`. */
export function suggestedName(disposition: string | string[] | undefined, fallback: string): string {
  const value = Array.isArray(disposition) ? disposition[0] : disposition;
  const suggested = /filename="([^"]+)"/.exec(value ?? '')?.[1];
  return suggested ? safeName(suggested) : fallback;
}

/** A name from the other side, safe in any directory: no path, no odd characters, not hidden, never "." or "..". */
export function safeName(name: string): string {
  const safe = basename(name)
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^\.+/, '')
    .slice(0, 200);
  return safe === '' ? 'download' : safe;
}

/** A temp path in the same directory as `path` (so rename is atomic), hidden and recognisable. */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.opsctl-tmp-${randomBytes(4).toString('hex')}`);
}

export async function writeFileAtomic(path: string, content: string, mode: number): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new CliError('CONFIG_UNWRITABLE', `cannot create ${dirname(path)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      cause: error,
    });
  }
  const temp = tempPathFor(path);
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw new CliError('CONFIG_UNWRITABLE', `cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
}

/**
 * A download in progress: bytes go to a hidden temp file beside the destination, which
 * appears under its real name only on commit (fsync, then link or rename). Discarding,
 * or a crash, never leaves a partial file under the requested name.
 */
export class AtomicFile {
  readonly tempPath: string;

  private constructor(tempPath: string) {
    this.tempPath = tempPath;
  }

  /**
   * Creates the temp file in `dir` now, so an unwritable directory fails before any work.
   * Mode 0600: snapshots hold every secret of the process. First sweeps the temp files
   * that killed opsctl processes left in `dir`, saying so through `notice`.
   */
  static async create(dir: string, notice: (text: string) => void = () => {}): Promise<AtomicFile> {
    const swept = await sweepStaleDownloads(dir);
    if (swept.count > 0)
      notice(`removed ${swept.count} partial download${swept.count > 1 ? 's' : ''} (${formatBytes(swept.bytes)}) that an interrupted opsctl left in ${dir}`);
    const tempPath = join(dir, downloadTempName());
    try {
      await (await open(tempPath, 'wx', 0o600)).close();
    } catch (error) {
      throw fileError(error, dir);
    }
    return new AtomicFile(tempPath);
  }

  /** A writable stream into the temp file, in large writes. */
  stream(): NodeJS.WritableStream {
    return new BatchedFileStream(this.tempPath);
  }

  /**
   * Flushes to disk and gives the file its name; without `overwrite`, an existing file is
   * kept and FILE_EXISTS thrown. Says how long each step took.
   */
  async commit(path: string, overwrite: boolean): Promise<{ syncMs: number; renameMs: number }> {
    try {
      const started = performance.now();
      const handle = await open(this.tempPath, 'r+');
      await handle.sync().finally(() => handle.close());
      const synced = performance.now();
      if (overwrite) await rename(this.tempPath, path);
      else {
        await link(this.tempPath, path); // fails with EEXIST instead of replacing
        await rm(this.tempPath, { force: true });
      }
      return { syncMs: synced - started, renameMs: performance.now() - synced };
    } catch (error) {
      await this.discard();
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new CliError('FILE_EXISTS', `${path} already exists`, { hint: 'choose another --out, or pass --force to replace it' });
      }
      throw fileError(error, path);
    }
  }

  async discard(): Promise<void> {
    await rm(this.tempPath, { force: true });
  }
}

const FILE_ERROR_REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for the file system',
  EIO: 'input/output error',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'it is a directory',
};

/** True for an error of the local file system (disk full, permissions), as opposed to the network's. */
export function isFileSystemError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && Object.hasOwn(FILE_ERROR_REASONS, code);
}

/** A file system error as a sentence that names the place and the cause. */
export function fileError(error: unknown, where: string): CliError {
  const code = (error as NodeJS.ErrnoException).code;
  const reason = (code === undefined ? undefined : FILE_ERROR_REASONS[code]) ?? (error as Error).message;
  return new CliError('FILE_UNWRITABLE', `cannot write to ${where}: ${reason}`, { cause: error });
}
