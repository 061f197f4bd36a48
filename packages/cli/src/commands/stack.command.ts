// opsctl stack: the main thread's stack. Its flags, help text and examples; the run
// function is in stack.ts, loaded only when the command runs (`opsctl --help` loads
// commander alone).
import type { Command } from 'commander';
import { examples, type Runner } from '../define.js';

export function registerStack(program: Command, run: Runner): void {
  program
    .command('stack')
    .description("show the main thread's JavaScript stack now, and how long its event loop has been blocked")
    .addHelpText('after', examples('opsctl stack', 'opsctl stack --json'))
    .action(
      run(async (ctx) => {
        const { runStack } = await import('./stack.js');
        await runStack(ctx);
      }),
    );
}
