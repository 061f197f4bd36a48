// Atomic file writes: a temp file beside the target, fsync, rename. A crash or an
// interrupted download never leaves a half-written file under the requested name.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { link, mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CliError } from './errors.js';

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
