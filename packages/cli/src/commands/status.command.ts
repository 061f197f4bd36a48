// opsctl status: the target and its process. Its flags, help text and examples; the run
// function is in status.ts, loaded only when the command runs (`opsctl --help` loads
// commander alone).
import type { Command } from 'commander';
import { examples, type Runner } from '../define.js';

export function registerStatus(program: Command, run: Runner): void {
  program
    .command('status')
    .description('show the target, whether it answers, who you are there, its process, and the OS keychain')
    .addHelpText('after', examples('opsctl status', 'opsctl status --context prod --json'))
    .action(
      run(async (ctx) => {
        const { runStatus } = await import('./status.js');
        await runStatus(ctx);
      }),
    );
}
