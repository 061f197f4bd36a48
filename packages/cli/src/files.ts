// Atomic file writes: a temp file beside the target, fsync, rename. A crash or an
// interrupted download never leaves a half-written file under the requested name.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
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
