// opsctl leaks --diff: what is growing, from the target itself. Three heap snapshots one
// interval apart through the heapdump route (its preflight and single flight apply),
// then the three-snapshot report: objects allocated between the first and second that
// are still alive in the third, and who holds them. Snapshots go to --keep DIR, or to a
// temp directory removed afterwards: then the report calls them "snapshot a/b/c" rather
// than naming deleted files, and says that its @ids can be looked up only in snapshots
// kept with --keep.
//
// The report compares object ids, which mean something only within one process: behind
// a load balancer the snapshots may come from different ones, and the report would list
// a whole heap as "new". Each snapshot's instance (host, pid, start time) must match the
// first's, or the command stops at once.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { diffSnapshotFiles, type HeapdiffResult } from '../operations/heap-diff.js';
import { takeHeapSnapshot } from '../operations/heap-snapshot.js';
import { formatDuration } from '../ui/format.js';
import { renderHeapdiff } from '../ui/heapdiff-report.js';

export interface LeakDiffOptions {
  intervalSeconds: number;
  keep?: string;
  limit: number;
  /** Classes to find retainer paths for (see heapdiff). */
  retainers: number;
  skipMemoryCheck: boolean;
}

export async function runLeakDiff(opts: LeakDiffOptions, ctx: Context): Promise<HeapdiffResult> {
  const dir = opts.keep ? resolve(opts.keep) : await mkdtemp(join(tmpdir(), 'opsctl-leak-diff-'));
  if (opts.keep) await mkdir(dir, { recursive: true });
  const quiet = { ...ctx, out: ctx.out.silent() };
  const files: string[] = [];
  let first: TakenSnapshot | null = null;
  try {
    for (const label of ['a', 'b', 'c']) {
      if (files.length > 0) {
        const spinner = await ctx.out.spinner(
          `waiting ${formatDuration(opts.intervalSeconds)} before snapshot ${label}; exercise the suspected leak meanwhile…`,
        );
        try {
          await sleep(opts.intervalSeconds * 1000, undefined, { signal: ctx.signal });
        } catch {
          throw new CliError('CANCELLED', 'cancelled');
        } finally {
          spinner.stop();
        }
      }
      const spinner = await ctx.out.spinner(`heap snapshot ${label} of 3 (the process pauses)…`);
      try {
        const result = await takeHeapSnapshot(
          { out: join(dir, `${label}.heapsnapshot.gz`), gzip: true, force: true, skipMemoryCheck: opts.skipMemoryCheck },
          await quiet.client(),
          quiet,
        );
        files.push(result.path);
        const taken = { label, instance: result.instance };
        if (first === null) first = taken;
        else checkSameProcess(first, taken);
      } finally {
        spinner.stop();
      }
      if (!ctx.out.json) ctx.out.info(`snapshot ${label} taken`);
    }
    const [a = '', b = '', c = ''] = files;
    const names: [string, string, string] | undefined = opts.keep ? undefined : ['snapshot a', 'snapshot b', 'snapshot c'];
    const report = await diffSnapshotFiles(
      { files: [a, b, c], ...(names ? { names } : {}), sort: 'size', limit: opts.limit, minSize: 0, retainers: opts.retainers },
      ctx,
    );
    ctx.out.result(report, renderHeapdiff);
    if (!ctx.out.json) {
      ctx.out.info(
        opts.keep
          ? `snapshots kept in ${dir}; find an @id in Chrome DevTools (Memory → Load ${c}, then search @id)`
          : 'the snapshots were deleted; to look these @ids up in Chrome DevTools, run again with --keep DIR',
      );
    }
    return report;
  } finally {
    if (!opts.keep) await rm(dir, { recursive: true, force: true });
  }
}

interface TakenSnapshot {
  label: string;
  /** The endpoint's instance header: `<host>; pid=<pid>; start=<time>`; null from an endpoint that sends none. */
  instance: string | null;
}

/** Throws DIFFERENT_PROCESSES when `next` came from another process than `first`. */
function checkSameProcess(first: TakenSnapshot, next: TakenSnapshot): void {
  if (first.instance === null || next.instance === null || first.instance === next.instance) return;
  throw new CliError(
    'DIFFERENT_PROCESSES',
    `snapshot ${next.label} came from another process than snapshot ${first.label} (${first.label} from "${first.instance}", ${next.label} from "${next.instance}"); object ids of different processes cannot be compared`,
    {
      hint: "target one process: its own address rather than the load balancer's, or a port-forward to one pod (kubectl port-forward pod/NAME :9500, which prints the local port)",
    },
  );
}
