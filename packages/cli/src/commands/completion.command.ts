// opsctl completion: shell completion scripts. Its flags, help text and examples; the
// run function is in completion.ts, loaded only when the command runs (`opsctl --help`
// loads commander alone).
import { Argument, type Command } from 'commander';
import { examples, type Runner } from '../define.js';

export function registerCompletion(program: Command, run: Runner): void {
  program
    .command('completion')
    .description('print a shell completion script for bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    .addHelpText(
      'after',
      examples(
        'opsctl completion bash >> ~/.bashrc',
        'source <(opsctl completion bash)              # this shell only',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: zsh's ${fpath[1]}, for the shell to expand.
        'opsctl completion zsh > "${fpath[1]}/_opsctl"',
        'opsctl completion fish > ~/.config/fish/completions/opsctl.fish',
      ),
    )
    .action(
      run(async (ctx, shell: 'bash' | 'zsh' | 'fish') => {
        const { runCompletion } = await import('./completion.js');
        runCompletion(shell, program, ctx);
      }),
    );
}
