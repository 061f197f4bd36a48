// opsctl run: run an action. Its flags, help text and examples; the run function is in
// run.ts, loaded only when the command runs (`opsctl --help` loads commander alone).
import type { Command } from 'commander';
import { examples, type Runner } from '../define.js';

export function registerRun(program: Command, run: Runner): void {
  program
    .command('run')
    .description("run one of the application's actions and print its JSON result")
    .argument('<name>', 'the action, as opsctl actions lists it')
    .argument('[params...]', 'its parameters as key=value')
    .addHelpText(
      'after',
      `
The endpoint checks the parameters against the action's schema (a bad one exits 2, naming
it). An action that fails exits 1 with its message; one that outlives its time limit is
told to stop, but may still be running.
${examples('opsctl actions                        # what the application offers', 'opsctl run NAME key=value other=value')}`,
    )
    .action(
      run(async (ctx, name: string, params: string[]) => {
        const { runAction } = await import('./run.js');
        await runAction({ name, assignments: params }, ctx);
      }),
    );
}
