// opsctl logout: delete a context. Its flags, help text and examples; the run function
// is in logout.ts, loaded only when the command runs (`opsctl --help` loads commander
// alone).
import { Option, type Command } from 'commander';
import { examples, type Runner } from '../define.js';

export function registerLogout(program: Command, run: Runner): void {
  program
    .command('logout')
    .description('delete a context and its stored token')
    .argument('[name]', 'the context (default: the current one)')
    // Before the name was positional: still accepted, and free to keep.
    .addOption(new Option('--name <name>').hideHelp())
    .addHelpText('after', examples('opsctl logout', 'opsctl logout staging'))
    .action(
      run(async (ctx, name: string | undefined, opts: { name?: string }) => {
        const { runLogout } = await import('./logout.js');
        const chosen = name ?? opts.name;
        await runLogout(chosen === undefined ? {} : { name: chosen }, ctx);
      }),
    );
}
