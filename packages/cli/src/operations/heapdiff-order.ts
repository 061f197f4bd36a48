// heapdiff compares object ids, which mean something only within one process and only
// oldest first: snapshots of two processes, or given newest first, make a report that
// looks plausible and is wrong. Two checks, each overridden by --force:
//   before reading: the file names opsctl heapdump and Node give (process and time);
//   after reading:  the newest object id of each snapshot, which only grows in a process.
import { basename } from 'node:path';
import { CliError } from '../errors.js';

interface SnapshotOrigin {
  /** Who took it: `<app>-<host>-<pid>` (opsctl heapdump) or `pid <pid>` (Node's default name). */
  process: string;
  /** Sorts in the order the snapshots were taken, within one process. */
  order: string;
}

// opsctl heapdump: <app>-<host>-<pid>-<YYYYMMDDTHHMMSSZ>.heapsnapshot[.gz]
const OPSCTL_NAME = /^(.+-\d+)-(\d{8}T\d{6}Z)\.heapsnapshot(?:\.gz)?$/;
// v8.writeHeapSnapshot() and --heapsnapshot-signal: Heap.<YYYYMMDD>.<HHMMSS>.<pid>.<thread>.<sequence>.heapsnapshot
const NODE_NAME = /^Heap\.(\d{8})\.(\d{6})\.(\d+)\.(\d+)\.(\d+)\.heapsnapshot(?:\.gz)?$/;

/** The process and time a snapshot's file name gives, or null for a name that says neither. */
function originFromName(file: string): SnapshotOrigin | null {
  const name = basename(file);
  const opsctl = OPSCTL_NAME.exec(name);
  if (opsctl) return { process: opsctl[1] as string, order: opsctl[2] as string };
  const node = NODE_NAME.exec(name);
  if (node) return { process: `pid ${node[3]} thread ${node[4]}`, order: node[5]!.padStart(6, '0') };
  return null;
}

const FORCE_HINT = 'give snapshots of one process, oldest first; pass --force to compare them anyway';

/** Refuses files whose names say they come from different processes, or are not oldest first. */
export function checkNamedOrder(files: readonly string[], force: boolean): void {
  if (force) return;
  const named = files.map((file) => ({ file, origin: originFromName(file) })).filter((f) => f.origin !== null);
  for (let i = 1; i < named.length; i++) {
    const earlier = named[i - 1]!;
    const later = named[i]!;
    if (earlier.origin!.process !== later.origin!.process) {
      throw new CliError(
        'USAGE',
        `${later.file} comes from another process than ${earlier.file} (${later.origin!.process}, not ${earlier.origin!.process}); object ids of different processes cannot be compared`,
        { hint: FORCE_HINT },
      );
    }
    if (later.origin!.order < earlier.origin!.order) {
      throw new CliError('USAGE', `${later.file} was taken before ${earlier.file}: give the snapshots oldest first`, { hint: FORCE_HINT });
    }
  }
}

/** Refuses snapshots whose newest object ids do not grow in the order given. */
export function checkIdOrder(snapshots: readonly { file: string; newestId: number }[], force: boolean): void {
  if (force) return;
  for (let i = 1; i < snapshots.length; i++) {
    const earlier = snapshots[i - 1]!;
    const later = snapshots[i]!;
    if (later.newestId < earlier.newestId) {
      throw new CliError('USAGE', `${later.file} holds no object newer than those in ${earlier.file}: it was taken before it, or in another process`, {
        hint: FORCE_HINT,
      });
    }
  }
}
