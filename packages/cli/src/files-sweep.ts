// The temp files of downloads (`.opsctl-tmp-…`, mode 0600, holding heap snapshots and
// so every secret of a process) stay behind when opsctl is killed (kill -9, a lost
// shell, OOM). The next download into the same directory removes them, but only those
// certainly abandoned: each name carries the machine and the pid of the opsctl that
// writes it, and a file is removed only when it was made on this machine by a process
// that no longer runs, is a regular file (not a link) and belongs to this user. Another
// opsctl downloading meanwhile, here or on another machine sharing the directory, keeps
// its file. Names without a pid (older opsctl versions) go once a day old.
import { createHash, randomBytes } from 'node:crypto';
import { lstat, readdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

const PREFIX = '.opsctl-tmp-';
const LEGACY_MAX_AGE_MS = 24 * 3_600_000;
// The machine, as a short tag: host names may hold characters a file name should not.
const HOST_TAG = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
const CURRENT = new RegExp(`^\\${PREFIX}([0-9a-f]{8})-(\\d+)-[0-9a-f]+$`);
const LEGACY = new RegExp(`^\\${PREFIX}[0-9a-f]{12}$`);

/** A temp file name for this process: `.opsctl-tmp-<host tag>-<pid>-<random>`. */
export function downloadTempName(pid: number = process.pid): string {
  return `${PREFIX}${HOST_TAG}-${pid}-${randomBytes(6).toString('hex')}`;
}

export interface Swept {
  count: number;
  bytes: number;
}

/** Removes the abandoned temp files in `dir`; never fails the download it runs before. */
export async function sweepStaleDownloads(dir: string, now: number = Date.now()): Promise<Swept> {
  const swept: Swept = { count: 0, bytes: 0 };
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(PREFIX)) continue;
    const path = join(dir, name);
    const info = await lstat(path).catch(() => null);
    if (info === null || !info.isFile() || info.uid !== process.getuid?.()) continue;
    const current = CURRENT.exec(name);
    const abandoned =
      current !== null ? current[1] === HOST_TAG && !isRunning(Number(current[2])) : LEGACY.test(name) && now - info.mtimeMs > LEGACY_MAX_AGE_MS;
    if (!abandoned) continue;
    if (
      await rm(path).then(
        () => true,
        () => false,
      )
    ) {
      swept.count++;
      swept.bytes += info.size;
    }
  }
  return swept;
}

function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
