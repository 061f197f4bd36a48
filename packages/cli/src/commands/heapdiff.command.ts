// opsctl heapdiff: compare heap snapshots. Its flags, help text and examples; the run
// function is in heapdiff.ts, loaded only when the command runs (`opsctl --help` loads
// commander alone).
import { Option, type Command } from 'commander';
import { examples, type Runner } from '../define.js';
import { countFlag, countOrZeroFlag, forceOption, sizeFlag } from '../flags.js';

export function registerHeapdiff(program: Command, run: Runner): void {
  program
    .command('heapdiff')
    .description('compare heap snapshot files: what grew from A to B, or (with C) what was allocated between A and B and is still alive in C')
    .argument('<a>', 'the earlier snapshot (.heapsnapshot, gzipped or not)')
    .argument('<b>', 'a later snapshot of the same process')
    .argument('[c]', 'a still later one: report only objects allocated between A and B that are alive in C')
    .addOption(new Option('--sort <by>', 'order by bytes or by number of objects').choices(['size', 'count']).default('size'))
    .addOption(new Option('--limit <n>', 'show at most N classes').default(20).argParser(countFlag))
    .addOption(
      new Option('--min-size <size>', 'leave out classes with less growth (with C: less retained) than this, e.g. 64KB').argParser(sizeFlag(0)).default(0, '0'),
    )
    .addOption(
      new Option(
        '--retainers <n>',
        "find who holds the new objects of the top N classes: retainer paths and the holder's retained size (0: none; no edges read, about half the memory and time)",
      )
        .argParser(countOrZeroFlag)
        .default(5),
    )
    .addOption(forceOption('compare even snapshots that look like different processes or out of order'))
    .addHelpText(
      'after',
      `
Works offline on files from opsctl heapdump, Chrome DevTools or v8.writeHeapSnapshot().
Take them from one process with the suspected leak exercised in between: V8 keeps an
object's id for its life, so with three the report leaves out the warm-up (already in
A) and short-lived objects (gone by C). Files named by opsctl heapdump say which
process and when: snapshots of different processes, or given newest first, are refused.
Retainer paths are found in the last file (B of two, C of three); strings, internal
arrays and the objects a new object owns count with it.
${examples('opsctl heapdiff a.heapsnapshot b.heapsnapshot', 'opsctl heapdiff a.heapsnapshot b.heapsnapshot c.heapsnapshot --min-size 64KB')}`,
    )
    .action(
      run(
        async (
          ctx,
          a: string,
          b: string,
          c: string | undefined,
          opts: { sort: 'size' | 'count'; limit: number; minSize: number; retainers: number; force: boolean },
        ) => {
          const { runHeapdiff } = await import('./heapdiff.js');
          await runHeapdiff({ files: [a, b, c], ...opts }, ctx);
        },
      ),
    );
}
