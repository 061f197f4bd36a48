// opsctl login: verify a token and keep it. Its flags, help text and examples; the run
// function is in login.ts, loaded only when the command runs (`opsctl --help` loads
// commander alone).
import type { Command } from 'commander';
import { examples, type Runner } from '../define.js';
import { forceOption } from '../flags.js';

export function registerLogin(program: Command, run: Runner): void {
  program
    .command('login')
    .description('verify a token against an endpoint and keep it in the OS keychain')
    .argument('[url]', 'endpoint URL, e.g. https://app.internal:9500 (default: OPSCTL_URL)')
    .option('--name <name>', 'name of the context (default: host:port)')
    .option('--with-token', 'read the token from stdin (default: OPSCTL_TOKEN, else asked for)', false)
    .option('--insecure-storage', 'keep the token in a mode-0600 file instead of the OS keychain', false)
    .addOption(forceOption('replace an existing context of that name without asking'))
    .addHelpText(
      'after',
      examples(
        'opsctl login https://app.internal:9500',
        'opsctl login http://127.0.0.1:9500 --name dev --with-token < token.txt',
        'OPSCTL_TOKEN=… opsctl login https://app.internal:9500 --insecure-storage',
      ),
    )
    .action(
      run(async (ctx, url: string | undefined, opts: { name?: string; withToken: boolean; insecureStorage: boolean; force: boolean }) => {
        const { runLogin } = await import('./login.js');
        await runLogin({ ...opts, ...(url === undefined ? {} : { url }) }, ctx);
      }),
    );
}
