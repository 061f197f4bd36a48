// opsctl fleet: Prometheus' view of every instance. Its flags, help text and examples;
// the run function is in fleet.ts, loaded only when the command runs (`opsctl --help`
// loads commander alone).
import type { Command } from 'commander';
import { examples, type Runner } from '../define.js';

export function registerFleet(program: Command, run: Runner): void {
  program
    .command('fleet')
    .description("ask Prometheus which instance to dig into: every endpoint's leak verdict, growth and memory, worst first")
    .requiredOption('--prometheus <url>', "Prometheus' address, e.g. http://prometheus:9090")
    .option('--selector <selector>', 'only instances whose series match this PromQL label selector, e.g. \'{app="shop"}\'')
    .option('--prometheus-token-file <file>', 'send the bearer token in this file to Prometheus (default: OPSCTL_PROMETHEUS_TOKEN)')
    .option('--heapdump-worst', 'then take a heap snapshot of the first instance listed', false)
    .option('--endpoint <template>', "with --heapdump-worst: an instance's endpoint URL, its labels in braces, e.g. 'https://{instance}'")
    .option('-o, --out <dir>', 'with --heapdump-worst: the directory for the snapshot (default: the current directory)')
    .option('-y, --yes', 'with --heapdump-worst: send the token to the URL the template gives without asking (needed off a terminal)', false)
    .addHelpText(
      'after',
      `
The instances are those Prometheus scrapes: each endpoint's /metrics, read with a token
of scope metrics (scrape config and alert rules: docs/monitoring.md in the opsctl
repository). Worst first: by verdict (suspected, growing, ok, unknown), then by growth.
--heapdump-worst reaches the first one through --endpoint: {instance} is the address
Prometheus scrapes; any other label of the target works too ({pod}, {namespace}). The
token is OPSCTL_TOKEN, else that of --context or the current context (with its CA); it
needs the heap scope. Labels come from what Prometheus scrapes, so opsctl shows where
the token would go and asks first (--yes off a terminal); use https with your CA.
${examples(
  'opsctl fleet --prometheus http://prometheus:9090',
  'opsctl fleet --prometheus http://prometheus:9090 --selector \'{app="shop"}\' --json',
  "opsctl fleet --prometheus http://prometheus:9090 --heapdump-worst --endpoint 'https://{instance}' --out ./dumps/ --yes",
)}`,
    )
    .action(
      run(
        async (
          ctx,
          opts: { prometheus: string; selector?: string; prometheusTokenFile?: string; heapdumpWorst: boolean; endpoint?: string; out?: string; yes: boolean },
        ) => {
          const { runFleet } = await import('./fleet.js');
          await runFleet(opts, ctx);
        },
      ),
    );
}
