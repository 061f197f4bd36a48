// opsctl token: mint tokens. Its flags, help text and examples; the run function is in
// token.ts, loaded only when the command runs (`opsctl --help` loads commander alone).
import type { Command } from 'commander';
import { examples, type Runner } from '../define.js';

export function registerToken(program: Command, run: Runner): void {
  const token = program
    .command('token')
    .description("mint tokens for an application's configuration")
    .addHelpText('after', examples('opsctl token new --name alice --scopes admin'));
  token
    .command('new')
    .description('print a new token once, and the configuration line holding its hash')
    .requiredOption('--name <name>', 'who will hold the token (shown in audit logs)')
    // Written out: --help loads commander alone, not the protocol (token.test.ts checks it against SCOPE_LIST).
    .requiredOption('--scopes <list>', 'comma-separated: metrics, read, heap, profile, actions, repl, admin')
    .addHelpText('after', examples('opsctl token new --name alice --scopes admin', 'opsctl token new --name ci --scopes read --json'))
    .action(
      run(async (ctx, opts: { name: string; scopes: string }) => {
        const { runTokenNew } = await import('./token.js');
        await runTokenNew(opts, ctx);
      }),
    );
}
