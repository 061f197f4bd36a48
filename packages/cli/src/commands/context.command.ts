// opsctl context: named targets. Its flags, help text and examples; the run function is
// in context.ts, loaded only when the command runs (`opsctl --help` loads commander
// alone).
import type { Command } from 'commander';
import { examples, type Runner } from '../define.js';

export function registerContext(program: Command, run: Runner): void {
  const context = program
    .command('context')
    .description('list, select, show or remove named targets')
    .addHelpText('after', examples('opsctl context list', 'opsctl context use prod'));
  context
    .command('list')
    .description('list contexts; * marks the current one')
    .addHelpText('after', examples('opsctl context list', 'opsctl context list --json'))
    .action(
      run(async (ctx) => {
        const { runContextList } = await import('./context.js');
        await runContextList(ctx);
      }),
    );
  context
    .command('use')
    .description('make a context the current one')
    .argument('<name>')
    .addHelpText('after', examples('opsctl context use prod'))
    .action(
      run(async (ctx, name: string) => {
        const { runContextUse } = await import('./context.js');
        await runContextUse(name, ctx);
      }),
    );
  context
    .command('show')
    .description('show a context (default: the current one)')
    .argument('[name]')
    .addHelpText('after', examples('opsctl context show', 'opsctl context show prod --json'))
    .action(
      run(async (ctx, name: string | undefined) => {
        const { runContextShow } = await import('./context.js');
        await runContextShow(name, ctx);
      }),
    );
  context
    .command('remove')
    .alias('rm')
    .description('delete a context and its stored token')
    .argument('<name>')
    .addHelpText('after', examples('opsctl context remove staging'))
    .action(
      run(async (ctx, name: string) => {
        const { runContextRemove } = await import('./context.js');
        await runContextRemove(name, ctx);
      }),
    );
}
