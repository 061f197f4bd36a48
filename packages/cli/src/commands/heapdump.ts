// opsctl heapdump [--out PATH]: a heap snapshot of the target process, written
// atomically and verified complete before it appears under its name (by default in the
// current directory, under the name the endpoint suggests): operations/heap-snapshot.ts
// takes it, this prints what came of it.
import type { Context } from '../context.js';
import { takeHeapSnapshot, type HeapdumpOptions, type HeapdumpResult } from '../operations/heap-snapshot.js';
import { formatBytes, formatDuration } from '../ui/format.js';

export async function runHeapdump(opts: HeapdumpOptions, ctx: Context): Promise<HeapdumpResult> {
  const result = await takeHeapSnapshot(opts, await ctx.client(), ctx);
  ctx.out.result(result, (r, c) =>
    [
      `${c.green('✔')} Heap snapshot${r.worker === null ? '' : ` of worker "${r.worker}"`} written to ${c.bold(r.path)} (${formatBytes(r.bytes)}, ${r.nodes.toLocaleString('en-US')} objects)`,
      `  snapshot ${formatDuration(r.snapshotMs / 1000)} (${r.worker === null ? 'process' : 'worker'} paused), in place ${formatDuration(r.downloadMs / 1000)} after`,
      // The warning only when the snapshot's memory stayed with the process.
      `  process memory (RSS) ${formatBytes(r.rssBeforeBytes)} before, ${formatBytes(r.rssAfterBytes)} after${r.rssAfterBytes > r.rssBeforeBytes ? ': freed pages often stay with the process; avoid snapshots in a loop' : ''}`,
      `  open it in Chrome DevTools: Memory tab → Load profile…${r.gzip ? ' (gunzip it first)' : ''}`,
    ].join('\n'),
  );
  return result;
}
