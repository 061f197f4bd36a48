// Atomic file writes: a temp file beside the target, fsync, rename. A crash or an
// interrupted download never leaves a half-written file under the requested name.
// And where a download goes: --out as a file or a directory, and a safe name for it.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { link, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CliError } from './errors.js';

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

/** The endpoint's suggested file name from a Content-Disposition header, made safe; else `fallback`. */
export function suggestedName(disposition: string | string[] | undefined, fallback: string): string {
  const value = Array.isArray(disposition) ? disposition[0] : disposition;
  const suggested = /filename="([^"]+)"/.exec(value ?? '')?.[1];
  return suggested ? safeName(suggested) : fallback;
}

/** A name from the other side, safe in any directory: no path, no odd characters. */
export function safeName(name: string): string {
  return basename(name).replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** A temp path in the same directory as `path` (so rename is atomic), hidden and recognisable. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.opsctl-tmp-${randomBytes(4).toString('hex')}`);
}

export async function writeFileAtomic(path: string, content: string, mode: number): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new CliError('CONFIG_UNWRITABLE', `cannot create ${dirname(path)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
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

  /** Creates the temp file in `dir` now, so an unwritable directory fails before any work. Mode 0600: snapshots hold every secret of the process. */
  static async create(dir: string): Promise<AtomicFile> {
    const tempPath = join(dir, `.opsctl-tmp-${randomBytes(6).toString('hex')}`);
    try {
      await (await open(tempPath, 'wx', 0o600)).close();
    } catch (error) {
      throw fileError(error, dir);
    }
    return new AtomicFile(tempPath);
  }

  /** A writable stream into the temp file. */
  stream(): NodeJS.WritableStream {
    return createWriteStream(this.tempPath, { flags: 'w', mode: 0o600 });
  }

  /** Flushes to disk and gives the file its name; without `overwrite`, an existing file is kept and FILE_EXISTS thrown. */
  async commit(path: string, overwrite: boolean): Promise<void> {
    try {
      const handle = await open(this.tempPath, 'r+');
      await handle.sync().finally(() => handle.close());
      if (overwrite) await rename(this.tempPath, path);
      else {
        await link(this.tempPath, path); // fails with EEXIST instead of replacing
        await rm(this.tempPath, { force: true });
      }
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

/** A file system error as a sentence that names the place and the cause. */
export function fileError(error: unknown, where: string): CliError {
  const code = (error as NodeJS.ErrnoException).code;
  const reason =
    code === 'ENOENT' ? 'no such directory'
    : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
    : code === 'EROFS' ? 'read-only file system'
    : code === 'ENOSPC' ? 'no space left on the device'
    : code === 'ENOTDIR' ? 'a part of the path is not a directory'
    : (error as Error).message;
  return new CliError('FILE_UNWRITABLE', `cannot write to ${where}: ${reason}`, { cause: error });
}
