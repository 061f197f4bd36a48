// Private temp directories for heap snapshots, and the sweep of those a killed process
// left behind. A snapshot file is as large as twice the heap and holds every secret of
// the process, and the usual way a snapshot goes wrong is an OOM kill in the middle of
// it, which runs no cleanup. So each directory is named `<prefix><pid>-<random>` and a
// sweep removes those of processes that are gone, and those of this pid that this
// process did not make (a previous life of it: a container's app is often pid 1 again,
// and an emptyDir volume outlives the container). Processes in other pid namespaces look
// gone, so containers must not share one snapshot directory.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** The directories this process made and has not removed: never swept, whoever sweeps. */
const ours = new Set<string>();

export interface PrivateTempDir {
  path: string;
  /** Removes the directory and its contents; safe to call more than once. */
  remove(): Promise<void>;
}

/** A fresh mode-0700 directory `<parent>/<prefix><pid>-<random>`. */
export async function makePrivateTempDir(parent: string, prefix: string): Promise<PrivateTempDir> {
  const path = await mkdtemp(join(parent, `${prefix}${process.pid}-`));
  ours.add(path);
  return {
    path,
    async remove() {
      await rm(path, { recursive: true, force: true });
      ours.delete(path);
    },
  };
}

/** Removes the `prefix` directories in `parent` that no live process is using; never throws. */
export async function removeStaleTempDirs(parent: string, prefix: string): Promise<string[]> {
  const names = await readdir(parent).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    const path = join(parent, name);
    if (!Number.isInteger(pid) || pid <= 0 || ours.has(path)) continue;
    if (pid !== process.pid && isAlive(pid)) continue;
    try {
      await rm(path, { recursive: true, force: true });
      removed.push(path);
    } catch {
      // Another user's directory, or gone already: not ours to insist on.
    }
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
