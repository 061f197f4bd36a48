// opsctl repl: a REPL in the process. Its flags, help text and examples; the run
// function is in repl.ts, loaded only when the command runs (`opsctl --help` loads
// commander alone).
import { Option, type Command } from 'commander';
import { examples, type Runner } from '../define.js';
import { durationFlag } from '../flags.js';

export function registerRepl(program: Command, run: Runner): void {
  program
    .command('repl')
    .description('open a REPL inside the process; with -e or piped stdin, evaluate once')
    .option('-e, --eval <code>', 'evaluate this and print the result; exit 1 if it throws')
    .addOption(
      new Option(
        '--eval-timeout <duration>',
        "limit for the synchronous part of -e (and awaiting its result), e.g. 500ms; at most the application's repl.evalTimeoutMs",
      ).argParser(durationFlag({ min: 1 })),
    )
    .addHelpText(
      'after',
      `
Interactive sessions need a terminal: Tab completes, Ctrl-C cancels the line, Ctrl-D
or .exit leaves. Synchronous code is stopped after the endpoint's limit (5 s by
default), so a stray loop cannot freeze the process; code after an await is not.
If the connection to the process is lost, opsctl says so and exits 4.
${examples('opsctl repl', "opsctl repl -e 'process.memoryUsage()'", 'opsctl repl < script.js')}`,
    )
    .action(
      run(async (ctx, opts: { eval?: string; evalTimeout?: number }) => {
        const { runRepl } = await import('./repl.js');
        await runRepl(opts, ctx);
      }),
    );
}
