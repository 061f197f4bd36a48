// Comparing heap snapshot files, the operation behind opsctl heapdiff and leaks --diff
// (ui/heapdiff-report.ts prints its result). With two, the classes that grew from A to B;
// with three, the objects allocated between A and B that are still alive in C (the
// three-snapshot technique). For the objects new in the last file read (B of two, C of
// three), who holds them: retainer paths, clustered, with the holder's retained size
// (heapsnapshot/retainers.ts). With retainers, files are read one at a time, so memory
// follows the largest snapshot's node and edge counts, not the sum of the files; a class
// diff reads its two files at once, A on a thread of its own (heapsnapshot/thread-read.ts),
// and keeps 8 bytes an object of each.
import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import {
  countingBytes,
  DEFAULT_CHUNK_BYTES,
  diffClassSummaries,
  diffHeapSnapshots,
  findRetainedAllocations,
  isHeapSnapshotError,
  readClassSummary,
  readClassSummaryOnThread,
  readFileChunks,
  type ClassDelta,
  type HeapDiff,
  type HeapTotals,
  type HolderClass,
  type HolderReport,
  type RankBy,
  type RankOptions,
  type SnapshotSource,
} from '../heapsnapshot/index.js';
import type { Spinner } from '../ui/output.js';
import { formatBytes } from '../ui/format.js';
import { checkIdOrder, checkNamedOrder } from './heapdiff-order.js';

export interface HeapdiffOptions {
  /** Two snapshots of one process, oldest first; a third turns on the three-snapshot report. */
  files: [a: string, b: string, c?: string];
  /** What to call the files in the report, when their paths mean nothing to the reader (deleted temp files). */
  names?: [a: string, b: string, c?: string];
  sort: RankBy;
  /** Rows shown at most. */
  limit: number;
  /** Bytes: leave out classes that grew (or, with three files, retain) less than this. */
  minSize: number;
  /** Classes to find retainer paths for, the largest first; 0 for none (half the memory, a third of the time). */
  retainers: number;
  /** Compare even snapshots that look like different processes or out of order. */
  force?: boolean;
}

interface Ranking {
  sort: RankBy;
  limit: number;
  minSize: number;
  /** Rows that passed minSize but not the limit. */
  more: number;
}

export interface GrowthResult extends Ranking {
  kind: 'growth';
  files: { a: string; b: string };
  before: HeapTotals;
  after: HeapTotals;
  /** Classes that grew, largest growth first. */
  classes: ClassDelta[];
  /** The objects B has and A had not, by the class of what holds them, the top ones with retainer paths; null with --retainers 0. */
  newObjects: { total: HeapTotals; classes: HolderClass[] } | null;
}

export interface RetainedResult extends Ranking {
  kind: 'retained';
  files: { a: string; b: string; c: string };
  /** Whether what each object owns was counted (it needs C's edges: not with --retainers 0). */
  ownersCounted: boolean;
  /** Everything allocated between A and B and alive in C, before minSize and limit. */
  total: HeapTotals;
  /** By the class of what holds them (strings and internal arrays count with their owner), the top ones with retainer paths. */
  classes: HolderClass[];
}

export type HeapdiffResult = GrowthResult | RetainedResult;

const EXAMPLES_PER_CLASS = 3;

/** Reads and compares the files, showing progress; prints nothing else. */
export async function diffSnapshotFiles(opts: HeapdiffOptions, ctx: Context): Promise<HeapdiffResult> {
  const [a, b, c] = opts.files;
  const [nameA = a, nameB = b, nameC = c] = opts.names ?? [];
  checkNamedOrder(
    opts.files.filter((file) => file !== undefined),
    opts.force === true,
  );
  const sizes = new Map<string, number>();
  const seen = new Map<string, string>();
  for (const file of opts.files) {
    if (file === undefined) continue;
    const info = await statFile(file);
    sizes.set(file, info.size);
    // One file given twice (a completion slip) would report "nothing grew".
    const same = seen.get(`${info.dev}:${info.ino}`);
    if (same !== undefined && opts.force !== true) {
      throw new CliError('USAGE', `${same} and ${file} are the same file: a snapshot compared with itself shows nothing`, {
        hint: 'give snapshots taken some time apart, oldest first; pass --force to compare them anyway',
      });
    }
    seen.set(`${info.dev}:${info.ino}`, file);
  }
  const atOnce = c === undefined && opts.retainers === 0;
  const spinner = await ctx.out.spinner(atOnce ? bothLabel(a, b, sizes) : `reading ${a} (${formatBytes(sizes.get(a) ?? 0)})…`);
  // The library reads the files one after another, except for a class diff (two files at
  // once); the one being read is the one at fault, unless a thread's failure names its own.
  let reading = a;
  const source = (file: string): SnapshotSource => readWithProgress(file, sizes.get(file) ?? 0, spinner, ctx.signal, () => (reading = file));
  try {
    const tracing = { sortBy: opts.sort, retainers: opts.retainers > 0, classes: opts.retainers, examples: EXAMPLES_PER_CLASS };
    let result: HeapdiffResult;
    if (atOnce) {
      const diff = await classDiffAtOnce(a, b, sizes, spinner, ctx.signal, tracing);
      checkIdOrder(
        [
          { file: a, newestId: diff.newestIds.before },
          { file: b, newestId: diff.newestIds.after },
        ],
        opts.force === true,
      );
      result = growth(diff, opts, { a: nameA, b: nameB });
    } else if (c === undefined) {
      const diff = await diffHeapSnapshots(source(a), source(b), tracing);
      checkIdOrder(
        [
          { file: a, newestId: diff.newestIds.before },
          { file: b, newestId: diff.newestIds.after },
        ],
        opts.force === true,
      );
      result = growth(diff, opts, { a: nameA, b: nameB });
    } else {
      const report = await findRetainedAllocations(source(a), source(b), source(c), tracing);
      const { newestIds } = report;
      checkIdOrder(
        [
          { file: a, newestId: newestIds.a },
          { file: b, newestId: newestIds.b },
          { file: c, newestId: newestIds.c },
        ],
        opts.force === true,
      );
      result = retained(report, opts, { a: nameA, b: nameB, c: nameC ?? c });
    }
    spinner.stop();
    return result;
  } catch (error) {
    spinner.stop();
    throw describeFailure(error instanceof FileReadError ? error.cause : error, error instanceof FileReadError ? error.file : reading, ctx.signal);
  }
}

function growth(diff: HeapDiff, opts: HeapdiffOptions, files: GrowthResult['files']): GrowthResult {
  // diffHeapSnapshots also lists shrinking classes, last: not what "what is growing" asks.
  const grew = diff.classes.filter((row) => (row.sizeDelta > 0 || row.countDelta > 0) && row.sizeDelta >= opts.minSize);
  // Only the traced classes: the census above already lists what grew.
  const newObjects = diff.newObjects === null ? null : { total: diff.newObjects.total, classes: diff.newObjects.classes.slice(0, opts.retainers) };
  return { kind: 'growth', files, before: diff.before, after: diff.after, classes: grew.slice(0, opts.limit), newObjects, ...ranking(opts, grew.length) };
}

function retained(report: HolderReport, opts: HeapdiffOptions, files: RetainedResult['files']): RetainedResult {
  const kept = report.classes.filter((row) => row.selfSize + row.held.selfSize >= opts.minSize);
  return { kind: 'retained', files, ownersCounted: opts.retainers > 0, total: report.total, classes: kept.slice(0, opts.limit), ...ranking(opts, kept.length) };
}

function ranking(opts: HeapdiffOptions, rows: number): Ranking {
  return { sort: opts.sort, limit: opts.limit, minSize: opts.minSize, more: Math.max(0, rows - opts.limit) };
}

async function statFile(file: string): Promise<Stats> {
  const info = await stat(file).catch((error: unknown) => {
    throw unreadable(file, error);
  });
  if (!info.isFile()) throw new CliError('USAGE', `${file} is not a file`, { hint: HINT_FILES });
  return info;
}

const HINT_FILES = 'give two or three heap snapshots of one process, oldest first, e.g. from: opsctl heapdump --out DIR/';

function unreadable(file: string, error: unknown): CliError {
  const code = (error as NodeJS.ErrnoException).code;
  const what = code === 'ENOENT' ? `${file} does not exist` : `cannot read ${file} (${code ?? (error as Error).message})`;
  return new CliError('USAGE', what, { hint: HINT_FILES, cause: error });
}

/** A failure while reading `file`, when two files are read at once. */
class FileReadError extends Error {
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(`reading ${file} failed`, { cause });
  }
}

/**
 * The class diff, with A read on a thread of its own while B is read here: on two cores
 * it takes about as long as the larger file alone. The first failure stops both.
 */
async function classDiffAtOnce(
  a: string,
  b: string,
  sizes: Map<string, number>,
  spinner: Spinner,
  signal: AbortSignal,
  options: RankOptions,
): Promise<HeapDiff> {
  const read = { [a]: 0, [b]: 0 };
  // As for one file: the label stays, the percentages follow it (a plain-line terminal
  // then prints the label once, not a line per update).
  const label = bothLabel(a, b, sizes);
  const show = () => spinner.text(`${label} ${percent(read[a] ?? 0, sizes.get(a) ?? 0)}, ${percent(read[b] ?? 0, sizes.get(b) ?? 0)}`);
  const stop = new AbortController();
  const both = AbortSignal.any([signal, stop.signal]);
  const failed = (file: string) => (error: unknown) => {
    stop.abort();
    throw new FileReadError(file, error);
  };
  const [before, after] = await Promise.all([
    // A on the thread, which takes a moment to start: A is usually the smaller file.
    readClassSummaryOnThread(a, {
      sortIds: false,
      signal: both,
      onProgress: (bytes) => {
        read[a] = bytes;
        show();
      },
    }).catch(failed(a)),
    readClassSummary(
      countingBytes(readFileChunks(b, DEFAULT_CHUNK_BYTES, both), (bytes) => {
        read[b] = bytes;
        show();
      }),
      { sortIds: false },
    ).catch(failed(b)),
  ]);
  return diffClassSummaries(before, after, options);
}

const bothLabel = (a: string, b: string, sizes: Map<string, number>) => `reading ${a} and ${b} (${formatBytes((sizes.get(a) ?? 0) + (sizes.get(b) ?? 0))})…`;

const percent = (read: number, size: number) => `${size > 0 ? Math.floor((read / size) * 100) : 100}%`;

/** The file's bytes for the library, with the spinner showing how far it has got. */
async function* readWithProgress(file: string, size: number, spinner: Spinner, signal: AbortSignal, started: () => void): AsyncGenerator<Uint8Array> {
  started();
  const label = `reading ${file} (${formatBytes(size)})…`;
  spinner.text(label);
  yield* countingBytes(readFileChunks(file, DEFAULT_CHUNK_BYTES, signal), (read) => spinner.text(`${label} ${percent(read, size)}`));
}

function describeFailure(error: unknown, file: string, signal: AbortSignal): unknown {
  if (signal.aborted) return new CliError('CANCELLED', 'cancelled', { cause: error });
  if (isHeapSnapshotError(error)) {
    const hint =
      error.code === 'NOT_A_HEAPSNAPSHOT'
        ? 'give a snapshot written by V8: opsctl heapdump, Chrome DevTools (Memory tab), or v8.writeHeapSnapshot()'
        : 'take the snapshot again: opsctl heapdump --out FILE (it checks the file is complete and whole before keeping it)';
    return new CliError('BAD_SNAPSHOT', `${file}: ${error.message}`, { hint, cause: error });
  }
  if (typeof (error as NodeJS.ErrnoException).syscall === 'string') return unreadable(file, error);
  return error;
}
