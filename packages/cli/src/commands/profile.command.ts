// opsctl profile: CPU and heap profiles. Its flags, help text and examples; the run
// function is in profile.ts, loaded only when the command runs (`opsctl --help` loads
// commander alone).
import { Option, type Command } from 'commander';
import { examples, type Runner } from '../define.js';
import { durationFlag, forceOption, MINUTE_MS, outOption, sizeFlag } from '../flags.js';

export function registerProfile(program: Command, run: Runner): void {
  const profile = program
    .command('profile')
    .description('profile the process in place, for Chrome DevTools: where CPU time goes, or what allocates')
    .addHelpText('after', examples('opsctl profile cpu --duration 30s', 'opsctl profile heap --out ./profiles/'));
  for (const kind of ['cpu', 'heap'] as const) {
    profile
      .command(kind)
      .description(kind === 'cpu' ? 'sample the call stacks burning CPU into a .cpuprofile' : 'sample the call stacks allocating memory into a .heapprofile')
      .addOption(outOption(`<app>-<host>-<pid>-<time>.${kind}profile`))
      .addOption(
        new Option('-d, --duration <duration>', 'how long to profile, 1s to 5m')
          .argParser(durationFlag({ min: 1000, max: 5 * MINUTE_MS }))
          .default(10_000, '10s'),
      )
      .addOption(
        kind === 'cpu'
          ? new Option('--interval <duration>', 'CPU time between samples, 50us to 100ms (endpoint default 1ms)').argParser(
              durationFlag({ min: 0.05, max: 100 }),
            )
          : new Option('--interval <size>', 'bytes allocated between samples, 512 to 1MiB (endpoint default 32KiB)').argParser(sizeFlag(1)),
      )
      .addOption(forceOption())
      .addHelpText(
        'after',
        `
The process keeps running while it is profiled; one profile at a time. Ctrl-C stops the
profile and writes nothing.
${examples(`opsctl profile ${kind}`, `opsctl profile ${kind} --duration 1m --out ./profiles/`, kind === 'cpu' ? 'opsctl profile cpu -d 30s --interval 100us' : 'opsctl profile heap --interval 8KiB')}`,
      )
      .action(
        run(async (ctx, opts: { out?: string; duration: number; interval?: number; force: boolean }) => {
          const { runProfile } = await import('./profile.js');
          await runProfile(
            {
              kind,
              durationMs: opts.duration,
              force: opts.force,
              ...(opts.out === undefined ? {} : { out: opts.out }),
              ...(opts.interval === undefined ? {} : { interval: opts.interval }),
            },
            ctx,
          );
        }),
      );
  }
}
