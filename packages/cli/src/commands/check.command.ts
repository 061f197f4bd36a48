// opsctl check: a deployment smoke check. Its flags, help text and examples; the run
// function is in check.ts, loaded only when the command runs (`opsctl --help` loads
// commander alone).
import type { Command } from 'commander';
import { examples, type Runner } from '../define.js';

export function registerCheck(program: Command, run: Runner): void {
  program
    .command('check')
    .description('smoke-check a deployment: reachable, TLS, refuses anonymous callers, token and scopes, no leak')
    .option('--require <scopes>', 'scopes the token must have, comma-separated (e.g. heap,repl)')
    .option('--no-leak-check', 'do not fail on a suspected leak')
    .option('--require-leak-verdict', 'fail, rather than skip, when there is no leak verdict yet (a process just started)', false)
    .option('--heapdump', 'also take a heap snapshot to a temporary file and verify it', false)
    .option('--junit <file>', 'write the results as JUnit XML (mode 0600)')
    .addHelpText('after', examples('opsctl check', 'opsctl check --require heap,repl --junit check.xml'))
    .action(
      run(async (ctx, opts: { require?: string; leakCheck: boolean; requireLeakVerdict: boolean; heapdump: boolean; junit?: string }) => {
        const { runCheck } = await import('./check.js');
        await runCheck(opts, ctx);
      }),
    );
}
