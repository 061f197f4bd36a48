// opsctl heapdump: a heap snapshot to a file. Its flags, help text and examples; the run
// function is in heapdump.ts, loaded only when the command runs (`opsctl --help` loads
// commander alone).
import type { Command } from 'commander';
import { examples, type Runner } from '../define.js';
import { forceOption, outOption } from '../flags.js';

export function registerHeapdump(program: Command, run: Runner): void {
  program
    .command('heapdump')
    .description('write a heap snapshot of the process to a file (opens in Chrome DevTools)')
    .addOption(outOption('<app>-<host>-<pid>-<time>.heapsnapshot'))
    .option('--gzip', 'keep the file gzip-compressed (about 7x smaller)', false)
    .addOption(forceOption())
    .option(
      '--skip-memory-check',
      'snapshot even when the endpoint estimates too little memory headroom (risks an OOM kill; needs a token with the admin scope)',
      false,
    )
    .option('--worker <name>', 'snapshot this worker thread (as the application registered it) instead of the main thread')
    .addHelpText(
      'after',
      `
The process is paused while V8 writes the snapshot (about 15-30 s per 200 MB of heap)
and needs far more memory meanwhile (13-18x the heap for small objects, up to 45x
for short strings); the endpoint refuses (exit 1, LOW_MEMORY) when its estimate
would not fit under the process's memory limit. On the same machine as the process,
opsctl lowers its own CPU priority (nice 19) while it downloads, so that the paused
process keeps the CPU; stopping it (Ctrl-C) does not shorten the pause.
${examples('opsctl heapdump', 'opsctl heapdump --out ./dumps/ --gzip', 'opsctl heapdump --worker indexer --out before.heapsnapshot')}`,
    )
    .action(
      run(async (ctx, opts: { out?: string; gzip: boolean; force: boolean; skipMemoryCheck: boolean; worker?: string }) => {
        const { runHeapdump } = await import('./heapdump.js');
        await runHeapdump(opts, ctx);
      }),
    );
}
