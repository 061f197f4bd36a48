// opsctl blocks: blocked event loops. Its flags, help text and examples; the run
// function is in blocks.ts, loaded only when the command runs (`opsctl --help` loads
// commander alone).
import type { Command } from 'commander';
import { examples, type Runner } from '../define.js';

export function registerBlocks(program: Command, run: Runner): void {
  program
    .command('blocks')
    .description("list the times the main thread's event loop was blocked, with where; --watch follows them")
    .option('--watch', 'print each block as it ends, until Ctrl-C', false)
    .addHelpText('after', examples('opsctl blocks', 'opsctl blocks --watch', 'opsctl blocks --json'))
    .action(
      run(async (ctx, opts: { watch: boolean }) => {
        const { runBlocks } = await import('./blocks.js');
        await runBlocks(opts, ctx);
      }),
    );
}
