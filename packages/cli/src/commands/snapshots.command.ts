// opsctl snapshots: captured heap snapshots. Its flags, help text and examples; the run
// function is in snapshots.ts, loaded only when the command runs (`opsctl --help` loads
// commander alone).
import { Option, type Command } from 'commander';
import { examples, type Runner } from '../define.js';
import { forceOption, outOption, sizeFlag } from '../flags.js';

export function registerSnapshots(program: Command, run: Runner): void {
  const snapshots = program
    .command('snapshots')
    .description('heap snapshots the endpoint captured by itself (its capture rules), to fetch later')
    .addHelpText('after', examples('opsctl snapshots list', 'opsctl snapshots get ID'));
  snapshots
    .command('list')
    .description('list the captures, and whether capture is on')
    .addHelpText('after', examples('opsctl snapshots list'))
    .action(
      run(async (ctx) => {
        const { runSnapshotsList } = await import('./snapshots.js');
        await runSnapshotsList(ctx);
      }),
    );
  snapshots
    .command('get')
    .description('download a capture, resuming an interrupted download, and verify its SHA-256')
    .argument('<id>', 'the capture, as snapshots list shows it')
    .addOption(outOption('<id>.heapsnapshot'))
    .option('--gzip', 'keep it gzip-compressed, as stored (about 7x smaller)', false)
    .addOption(forceOption())
    .addOption(
      new Option('--limit-rate <size>', "download at most this many bytes per second, e.g. 500KB, to spare the application's network").argParser(sizeFlag(1)),
    )
    .addHelpText('after', examples('opsctl snapshots get ID', 'opsctl snapshots get ID --out ./dumps/ --limit-rate 5MB'))
    .action(
      run(async (ctx, id: string, opts: { out?: string; gzip: boolean; force: boolean; limitRate?: number }) => {
        const { runSnapshotGet } = await import('./snapshots.js');
        await runSnapshotGet({ id, ...opts }, ctx);
      }),
    );
  snapshots
    .command('remove')
    .alias('rm')
    .description('remove a capture, making room for new ones')
    .argument('<id>')
    .addHelpText('after', examples('opsctl snapshots remove ID'))
    .action(
      run(async (ctx, id: string) => {
        const { runSnapshotRemove } = await import('./snapshots.js');
        await runSnapshotRemove(id, ctx);
      }),
    );
}
