// opsctl report: Node's diagnostic report. Its flags, help text and examples; the run
// function is in report.ts, loaded only when the command runs (`opsctl --help` loads
// commander alone).
import type { Command } from 'commander';
import { examples, type Runner } from '../define.js';
import { forceOption, outOption } from '../flags.js';

export function registerReport(program: Command, run: Runner): void {
  program
    .command('report')
    .description("write Node's diagnostic report of the process (stacks, handles, resource usage, limits) to a JSON file")
    .addOption(outOption('report-<host>-<pid>-<time>.json'))
    .addOption(forceOption())
    .addHelpText('after', examples('opsctl report', 'opsctl report --out ./reports/'))
    .action(
      run(async (ctx, opts: { out?: string; force: boolean }) => {
        const { runReport } = await import('./report.js');
        await runReport(opts, ctx);
      }),
    );
}
