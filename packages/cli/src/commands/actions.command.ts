// opsctl actions: the application's actions. Its flags, help text and examples; the run
// function is in actions.ts, loaded only when the command runs (`opsctl --help` loads
// commander alone).
import type { Command } from 'commander';
import { examples, type Runner } from '../define.js';

export function registerActions(program: Command, run: Runner): void {
  program
    .command('actions')
    .description("list the application's own maintenance actions and their parameters")
    .addHelpText('after', examples('opsctl actions', 'opsctl actions --json'))
    .action(
      run(async (ctx) => {
        const { runActions } = await import('./actions.js');
        await runActions(ctx);
      }),
    );
}
