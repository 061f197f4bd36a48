// opsctl heapdiff A B [C]: offline comparison of heap snapshot files. With two, the
// classes that grew from A to B; with three, the objects allocated between A and B that
// are still alive in C (the three-snapshot technique): operations/heap-diff.ts compares,
// ui/heapdiff-report.ts prints.
import type { Context } from '../context.js';
import { diffSnapshotFiles, type HeapdiffOptions, type HeapdiffResult } from '../operations/heap-diff.js';
import { renderHeapdiff } from '../ui/heapdiff-report.js';

export async function runHeapdiff(opts: HeapdiffOptions, ctx: Context): Promise<HeapdiffResult> {
  const result = await diffSnapshotFiles(opts, ctx);
  ctx.out.result(result, renderHeapdiff);
  return result;
}
