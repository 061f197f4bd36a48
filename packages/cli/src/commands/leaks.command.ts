// opsctl leaks: the leak verdict. Its flags, help text and examples; the run function is
// in leaks.ts and leak-diff.ts, loaded only when the command runs (`opsctl --help` loads
// commander alone).
import { Option, type Command } from 'commander';
import { examples, type Runner } from '../define.js';
import { countFlag, countOrZeroFlag, durationFlag, MINUTE_MS } from '../flags.js';

export function registerLeaks(program: Command, run: Runner): void {
  program
    .command('leaks')
    .description('does the process leak memory? the verdict and its evidence')
    .option('-w, --watch', 'follow live: redrawn on a terminal (a line per sample where it reports no width), NDJSON lines otherwise; Ctrl-C ends', false)
    .option('--fail-on-leak', 'exit 5 when the verdict is "suspected" (for CI)', false)
    .option('--gc', 'ask for a GC sample first; the endpoint may refuse (at most one per 5 s, within its pause limits) and says when to ask again', false)
    .option('--diff', 'what grows: three heap snapshots an interval apart, compared (see heapdiff)', false)
    .addOption(
      new Option('--interval <duration>', 'with --diff: time between snapshots, 1s to 24h')
        .argParser(durationFlag({ min: 1000, max: 24 * 60 * MINUTE_MS }))
        .default(MINUTE_MS, '60s'),
    )
    .option('--keep <dir>', 'with --diff: keep the snapshots in DIR')
    .addOption(new Option('--limit <n>', 'with --diff: show at most N classes').argParser(countFlag).default(20))
    .addOption(new Option('--retainers <n>', 'with --diff: retainer paths for the top N classes (0: none)').argParser(countOrZeroFlag).default(5))
    .option('--skip-memory-check', "with --diff: snapshot despite the endpoint's memory estimate", false)
    .addHelpText(
      'after',
      `
Verdicts: unknown (fewer than 6 post-GC samples after warm-up: no verdict yet, never
"ok"); ok; growing (a trend, not yet proof); suspected (post-GC heap or external memory
has grown steadily for at least 90 s after warm-up). The rule, and the
measurements behind it: docs/leak-detection.md in the opsctl repository.
--diff pauses the process three times (once per snapshot); exercise the suspected
leak during the intervals.
${examples('opsctl leaks', 'opsctl leaks --watch', 'opsctl leaks --fail-on-leak --json', 'opsctl leaks --diff --interval 2m --keep ./snapshots/')}`,
    )
    .action(
      run(
        async (
          ctx,
          opts: {
            watch: boolean;
            failOnLeak: boolean;
            gc: boolean;
            diff: boolean;
            interval: number;
            keep?: string;
            limit: number;
            retainers: number;
            skipMemoryCheck: boolean;
          },
        ) => {
          if (opts.diff) {
            const { runLeakDiff } = await import('./leak-diff.js');
            await runLeakDiff(
              {
                intervalSeconds: opts.interval / 1000,
                limit: opts.limit,
                retainers: opts.retainers,
                skipMemoryCheck: opts.skipMemoryCheck,
                ...(opts.keep ? { keep: opts.keep } : {}),
              },
              ctx,
            );
            return;
          }
          const { runLeaks } = await import('./leaks.js');
          await runLeaks(opts, ctx);
        },
      ),
    );
}
