// The command line: every command, its flags, help text and examples, wired to the
// command modules. Command modules (and undici, ora, chalk, keytar behind them) load
// only when a command runs, so `opsctl --help` loads commander alone.
import { Argument, Command, Help, Option, type HelpContext } from 'commander';
import type { Context } from './context.js';
import { countFlag, durationFlag, sizeFlag } from './flags.js';
import { version } from './version.js';

/** Runs a command module's function with the context built for the command. */
export type Runner = <A extends unknown[]>(fn: (ctx: Context, ...args: A) => Promise<unknown>) => (...args: [...A, Command]) => Promise<void>;

export interface ProgramIo {
  writeOut(text: string): void;
  writeErr(text: string): void;
}

// Connect and answer timeout: long enough for a busy process, short enough for CI.
const DEFAULT_TIMEOUT_MS = 10_000;
const MINUTE_MS = 60_000;

/**
 * A command with subcommands run bare (`opsctl`, `opsctl context`) prints its help on
 * stdout and exits 0, as gh and kubectl do; commander would print it on stderr as an
 * error. Every command shows the global flags in its help.
 */
class OpsctlCommand extends Command {
  override createCommand(name?: string): Command {
    return new OpsctlCommand(name);
  }

  override help(context?: HelpContext | ((text: string) => string)): never {
    // Run with no words after it; `opsctl help nosuch` stays an error.
    const bare = typeof context === 'object' && context.error && this.commands.length > 0 && this.args.length === 0;
    return bare ? super.help({ error: false }) : super.help(context as HelpContext);
  }
}

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => (line.startsWith('#') ? `  ${line}` : `  $ ${line}`)).join('\n')}`;
}

export function buildProgram(run: Runner, io: ProgramIo): Command {
  const program = new OpsctlCommand('opsctl')
    .description('Reach a running Node.js process through its @opsctl/endpoint: memory, heap snapshots, leaks, profiles, actions, REPL.')
    .version(version, '-V, --version')
    .option('--context <name>', 'use this named context instead of the current one')
    .option('--url <url>', 'talk to this endpoint URL (token from OPSCTL_TOKEN)')
    .option('--json', 'print one JSON document on stdout', false)
    .option('--no-color', 'no colours (also NO_COLOR=1)')
    .option('--ca <file>', 'trust this PEM CA for the endpoint\'s TLS certificate')
    .option('--insecure', 'allow sending the token over plain http to a non-loopback host', false)
    .addOption(new Option('--timeout <duration>', 'connect and answer timeout, e.g. 30s').argParser(durationFlag({ min: 1 })).default(DEFAULT_TIMEOUT_MS, '10s'))
    .option('--verbose', 'show causes and stack traces of errors', false)
    .showSuggestionAfterError(true)
    // A flag is off unless given: "(default: false)" on every one of them is noise.
    .configureHelp({
      showGlobalOptions: true,
      optionDescription: (option) => new Help().optionDescription(option).replace(/ \(default: false\)$/, ''),
    })
    .exitOverride()
    .configureOutput({ writeOut: io.writeOut, writeErr: io.writeErr })
    .addHelpText('after', `
Environment:
  OPSCTL_URL, OPSCTL_TOKEN   target and token, for CI (OPSCTL_TOKEN beats stored tokens)
  OPSCTL_CONTEXT             context to use instead of the current one
  OPSCTL_CONFIG_DIR          where contexts live (default: $XDG_CONFIG_HOME/opsctl)
  OPSCTL_PROMETHEUS_TOKEN    bearer token for Prometheus (opsctl fleet)
  NO_COLOR, FORCE_COLOR      colour control

Durations: 1500ms, 10s, 5m, 1m30s. Sizes: 65536, 64KB, 1.5MB (KB = 1000 bytes;
KiB, MiB for powers of two).

Exit codes: 0 ok, 1 failure, 2 usage, 3 authentication or authorisation,
            4 unreachable or connection lost, 5 leak suspected,
            130 interrupted (Ctrl-C), 143 terminated (SIGTERM)
${examples('opsctl login https://app.internal:9500', 'opsctl status', 'opsctl heapdump', 'opsctl completion bash >> ~/.bashrc')}`);

  program
    .command('login')
    .description('verify a token against an endpoint and keep it in the OS keychain')
    .argument('[url]', 'endpoint URL, e.g. https://app.internal:9500 (default: OPSCTL_URL)')
    .option('--name <name>', 'name of the context (default: host:port)')
    .option('--with-token', 'read the token from stdin (default: OPSCTL_TOKEN, else asked for)', false)
    .option('--insecure-storage', 'keep the token in a mode-0600 file instead of the OS keychain', false)
    .option('-f, --force', 'replace an existing context of that name without asking', false)
    .addHelpText('after', examples('opsctl login https://app.internal:9500', 'opsctl login http://127.0.0.1:9500 --name dev --with-token < token.txt', 'OPSCTL_TOKEN=… opsctl login https://app.internal:9500 --insecure-storage'))
    .action(run(async (ctx, url: string | undefined, opts: { name?: string; withToken: boolean; insecureStorage: boolean; force: boolean }) => {
      const { runLogin } = await import('./commands/login.js');
      await runLogin({ ...opts, ...(url === undefined ? {} : { url }) }, ctx);
    }));

  program
    .command('logout')
    .description('delete a context and its stored token')
    .argument('[name]', 'the context (default: the current one)')
    // Before the name was positional: still accepted, and free to keep.
    .addOption(new Option('--name <name>').hideHelp())
    .addHelpText('after', examples('opsctl logout', 'opsctl logout staging'))
    .action(run(async (ctx, name: string | undefined, opts: { name?: string }) => {
      const { runLogout } = await import('./commands/logout.js');
      const chosen = name ?? opts.name;
      await runLogout(chosen === undefined ? {} : { name: chosen }, ctx);
    }));

  const context = program.command('context').description('list, select, show or remove named targets')
    .addHelpText('after', examples('opsctl context list', 'opsctl context use prod'));
  context.command('list').description('list contexts; * marks the current one')
    .addHelpText('after', examples('opsctl context list', 'opsctl context list --json'))
    .action(run(async (ctx) => {
      const { runContextList } = await import('./commands/context.js');
      await runContextList(ctx);
    }));
  context.command('use').description('make a context the current one').argument('<name>')
    .addHelpText('after', examples('opsctl context use prod'))
    .action(run(async (ctx, name: string) => {
      const { runContextUse } = await import('./commands/context.js');
      await runContextUse(name, ctx);
    }));
  context.command('show').description('show a context (default: the current one)').argument('[name]')
    .addHelpText('after', examples('opsctl context show', 'opsctl context show prod --json'))
    .action(run(async (ctx, name: string | undefined) => {
      const { runContextShow } = await import('./commands/context.js');
      await runContextShow(name, ctx);
    }));
  context.command('remove').alias('rm').description('delete a context and its stored token').argument('<name>')
    .addHelpText('after', examples('opsctl context remove staging'))
    .action(run(async (ctx, name: string) => {
      const { runContextRemove } = await import('./commands/context.js');
      await runContextRemove(name, ctx);
    }));

  program
    .command('status')
    .description('show the target, whether it answers, who you are there, its process, and the OS keychain')
    .addHelpText('after', examples('opsctl status', 'opsctl status --context prod --json'))
    .action(run(async (ctx) => {
      const { runStatus } = await import('./commands/status.js');
      await runStatus(ctx);
    }));

  program
    .command('stack')
    .description('show the main thread\'s JavaScript stack now, and how long its event loop has been blocked')
    .addHelpText('after', examples('opsctl stack', 'opsctl stack --json'))
    .action(run(async (ctx) => {
      const { runStack } = await import('./commands/stack.js');
      await runStack(ctx);
    }));

  program
    .command('blocks')
    .description('list the times the main thread\'s event loop was blocked, with where; --watch follows them')
    .option('--watch', 'print each block as it ends, until Ctrl-C', false)
    .addHelpText('after', examples('opsctl blocks', 'opsctl blocks --watch', 'opsctl blocks --json'))
    .action(run(async (ctx, opts: { watch: boolean }) => {
      const { runBlocks } = await import('./commands/blocks.js');
      await runBlocks(opts, ctx);
    }));

  program
    .command('heapdump')
    .description('write a heap snapshot of the process to a file (opens in Chrome DevTools)')
    .option('-o, --out <path>', 'file, or directory (created when it ends in /), named <app>-<host>-<pid>-<time>.heapsnapshot (default: the current directory)')
    .option('--gzip', 'keep the file gzip-compressed (about 7x smaller)', false)
    .option('-f, --force', 'replace an existing file', false)
    .option('--skip-memory-check', 'snapshot even when the endpoint estimates too little memory headroom (risks an OOM kill)', false)
    .option('--worker <name>', 'snapshot this worker thread (as the application registered it) instead of the main thread')
    .addHelpText('after', `
The process is paused while V8 writes the snapshot (about 15-30 s per 200 MB of heap)
and needs far more memory meanwhile (13-18x the heap for small objects, up to 45x
for short strings); the endpoint refuses (exit 1, LOW_MEMORY) when its estimate
would not fit under the process's memory limit.
${examples('opsctl heapdump', 'opsctl heapdump --out ./dumps/ --gzip', 'opsctl heapdump --worker indexer --out before.heapsnapshot')}`)
    .action(run(async (ctx, opts: { out?: string; gzip: boolean; force: boolean; skipMemoryCheck: boolean; worker?: string }) => {
      const { runHeapdump } = await import('./commands/heapdump.js');
      await runHeapdump(opts, ctx);
    }));

  const profile = program.command('profile').description('profile the process in place, for Chrome DevTools: where CPU time goes, or what allocates')
    .addHelpText('after', examples('opsctl profile cpu --duration 30s', 'opsctl profile heap --out ./profiles/'));
  for (const kind of ['cpu', 'heap'] as const) {
    profile
      .command(kind)
      .description(kind === 'cpu' ? 'sample the call stacks burning CPU into a .cpuprofile' : 'sample the call stacks allocating memory into a .heapprofile')
      .option('-o, --out <path>', `file, or directory (created when it ends in /), named <app>-<host>-<pid>-<time>.${kind}profile (default: the current directory)`)
      .addOption(new Option('-d, --duration <duration>', 'how long to profile, 1s to 5m').argParser(durationFlag({ min: 1000, max: 5 * MINUTE_MS })).default(10_000, '10s'))
      .addOption(kind === 'cpu'
        ? new Option('--interval <duration>', 'CPU time between samples, 50us to 100ms (endpoint default 1ms)').argParser(durationFlag({ min: 0.05, max: 100 }))
        : new Option('--interval <size>', 'bytes allocated between samples, 512 to 1MiB (endpoint default 32KiB)').argParser(sizeFlag(1)))
      .option('-f, --force', 'replace an existing file', false)
      .addHelpText('after', `
The process keeps running while it is profiled; one profile at a time. Ctrl-C stops the
profile and writes nothing.
${examples(`opsctl profile ${kind}`, `opsctl profile ${kind} --duration 1m --out ./profiles/`, kind === 'cpu' ? 'opsctl profile cpu -d 30s --interval 100us' : 'opsctl profile heap --interval 8KiB')}`)
      .action(run(async (ctx, opts: { out?: string; duration: number; interval?: number; force: boolean }) => {
        const { runProfile } = await import('./commands/profile.js');
        await runProfile({ kind, durationMs: opts.duration, force: opts.force, ...(opts.out === undefined ? {} : { out: opts.out }), ...(opts.interval === undefined ? {} : { interval: opts.interval }) }, ctx);
      }));
  }

  program
    .command('report')
    .description('write Node\'s diagnostic report of the process (stacks, handles, resource usage, limits) to a JSON file')
    .option('-o, --out <path>', 'file, or directory (created when it ends in /), named report-<host>-<pid>-<time>.json (default: the current directory)')
    .option('-f, --force', 'replace an existing file', false)
    .addHelpText('after', examples('opsctl report', 'opsctl report --out ./reports/'))
    .action(run(async (ctx, opts: { out?: string; force: boolean }) => {
      const { runReport } = await import('./commands/report.js');
      await runReport(opts, ctx);
    }));

  program
    .command('actions')
    .description('list the application\'s own maintenance actions and their parameters')
    .addHelpText('after', examples('opsctl actions', 'opsctl actions --json'))
    .action(run(async (ctx) => {
      const { runActions } = await import('./commands/actions.js');
      await runActions(ctx);
    }));

  program
    .command('run')
    .description('run one of the application\'s actions and print its JSON result')
    .argument('<name>', 'the action, as opsctl actions lists it')
    .argument('[params...]', 'its parameters as key=value')
    .addHelpText('after', `
The endpoint checks the parameters against the action's schema (a bad one exits 2, naming
it). An action that fails exits 1 with its message; one that outlives its time limit is
told to stop, but may still be running.
${examples('opsctl actions                        # what the application offers', 'opsctl run NAME key=value other=value')}`)
    .action(run(async (ctx, name: string, params: string[]) => {
      const { runAction } = await import('./commands/run.js');
      await runAction({ name, assignments: params }, ctx);
    }));

  const snapshots = program.command('snapshots').description('heap snapshots the endpoint captured by itself (its capture rules), to fetch later')
    .addHelpText('after', examples('opsctl snapshots list', 'opsctl snapshots get ID'));
  snapshots.command('list').description('list the captures, and whether capture is on')
    .addHelpText('after', examples('opsctl snapshots list'))
    .action(run(async (ctx) => {
      const { runSnapshotsList } = await import('./commands/snapshots.js');
      await runSnapshotsList(ctx);
    }));
  snapshots
    .command('get')
    .description('download a capture, resuming an interrupted download, and verify its SHA-256')
    .argument('<id>', 'the capture, as snapshots list shows it')
    .option('-o, --out <path>', 'file, or directory (created when it ends in /), named <id>.heapsnapshot (default: the current directory)')
    .option('--gzip', 'keep it gzip-compressed, as stored (about 7x smaller)', false)
    .option('-f, --force', 'replace an existing file', false)
    .addOption(new Option('--limit-rate <size>', 'download at most this many bytes per second, e.g. 500KB, to spare the application\'s network').argParser(sizeFlag(1)))
    .addHelpText('after', examples('opsctl snapshots get ID', 'opsctl snapshots get ID --out ./dumps/ --limit-rate 5MB'))
    .action(run(async (ctx, id: string, opts: { out?: string; gzip: boolean; force: boolean; limitRate?: number }) => {
      const { runSnapshotGet } = await import('./commands/snapshots.js');
      await runSnapshotGet({ id, ...opts }, ctx);
    }));
  snapshots.command('remove').alias('rm').description('remove a capture, making room for new ones').argument('<id>')
    .addHelpText('after', examples('opsctl snapshots remove ID'))
    .action(run(async (ctx, id: string) => {
      const { runSnapshotRemove } = await import('./commands/snapshots.js');
      await runSnapshotRemove(id, ctx);
    }));

  program
    .command('repl')
    .description('open a REPL inside the process; with -e or piped stdin, evaluate once')
    .option('-e, --eval <code>', 'evaluate this and print the result; exit 1 if it throws')
    .addOption(new Option('--eval-timeout <duration>', 'limit for the synchronous part of -e (and awaiting its result), e.g. 500ms; at most the application\'s repl.evalTimeoutMs').argParser(durationFlag({ min: 1 })))
    .addHelpText('after', `
Interactive sessions need a terminal: Tab completes, Ctrl-C cancels the line, Ctrl-D
or .exit leaves. Synchronous code is stopped after the endpoint's limit (5 s by
default), so a stray loop cannot freeze the process; code after an await is not.
If the connection to the process is lost, opsctl says so and exits 4.
${examples('opsctl repl', "opsctl repl -e 'process.memoryUsage()'", 'opsctl repl < script.js')}`)
    .action(run(async (ctx, opts: { eval?: string; evalTimeout?: number }) => {
      const { runRepl } = await import('./commands/repl.js');
      await runRepl(opts, ctx);
    }));

  program
    .command('heapdiff')
    .description('compare heap snapshot files: what grew from A to B, or (with C) what was allocated between A and B and is still alive in C')
    .argument('<a>', 'the earlier snapshot (.heapsnapshot, gzipped or not)')
    .argument('<b>', 'a later snapshot of the same process')
    .argument('[c]', 'a still later one: report only objects allocated between A and B that are alive in C')
    .addOption(new Option('--sort <by>', 'order by bytes or by number of objects').choices(['size', 'count']).default('size'))
    .addOption(new Option('--limit <n>', 'show at most N classes').default(20).argParser(countFlag))
    .addOption(new Option('--min-size <size>', 'leave out classes with less growth (with C: less retained) than this, e.g. 64KB').argParser(sizeFlag(0)).default(0, '0'))
    .option('-f, --force', 'compare even snapshots that look like different processes or out of order', false)
    .addHelpText('after', `
Works offline on files from opsctl heapdump, Chrome DevTools or v8.writeHeapSnapshot().
Take them from one process with the suspected leak exercised in between: V8 keeps an
object's id for its life, so with three the report leaves out the warm-up (already in
A) and short-lived objects (gone by C). Files named by opsctl heapdump say which
process and when: snapshots of different processes, or given newest first, are refused.
${examples('opsctl heapdiff a.heapsnapshot b.heapsnapshot', 'opsctl heapdiff a.heapsnapshot b.heapsnapshot c.heapsnapshot --min-size 64KB')}`)
    .action(run(async (ctx, a: string, b: string, c: string | undefined, opts: { sort: 'size' | 'count'; limit: number; minSize: number; force: boolean }) => {
      const { runHeapdiff } = await import('./commands/heapdiff.js');
      await runHeapdiff({ files: [a, b, c], ...opts }, ctx);
    }));

  program
    .command('leaks')
    .description('does the process leak memory? the verdict and its evidence')
    .option('-w, --watch', 'follow live: redrawn on a terminal (a line per sample where it reports no width), NDJSON lines otherwise; Ctrl-C ends', false)
    .option('--fail-on-leak', 'exit 5 when the verdict is "suspected" (for CI)', false)
    .option('--gc', 'ask for a GC sample first; the endpoint may refuse (at most one per 5 s, within its pause limits) and says when to ask again', false)
    .option('--diff', 'what grows: three heap snapshots an interval apart, compared (see heapdiff)', false)
    .addOption(new Option('--interval <duration>', 'with --diff: time between snapshots, 1s to 24h').argParser(durationFlag({ min: 1000, max: 24 * 60 * MINUTE_MS })).default(MINUTE_MS, '60s'))
    .option('--keep <dir>', 'with --diff: keep the snapshots in DIR')
    .addOption(new Option('--limit <n>', 'with --diff: show at most N classes').argParser(countFlag).default(20))
    .option('--skip-memory-check', 'with --diff: snapshot despite the endpoint\'s memory estimate', false)
    .addHelpText('after', `
Verdicts: unknown (fewer than 6 post-GC samples after warm-up: no verdict yet, never
"ok"); ok; growing (a trend, not yet proof); suspected (post-GC heap or external memory
has grown steadily for at least 90 s after warm-up). The rule, and the
measurements behind it: docs/leak-detection.md in the opsctl repository.
--diff pauses the process three times (once per snapshot); exercise the suspected
leak during the intervals.
${examples('opsctl leaks', 'opsctl leaks --watch', 'opsctl leaks --fail-on-leak --json', 'opsctl leaks --diff --interval 2m --keep ./snapshots/')}`)
    .action(run(async (ctx, opts: { watch: boolean; failOnLeak: boolean; gc: boolean; diff: boolean; interval: number; keep?: string; limit: number; skipMemoryCheck: boolean }) => {
      if (opts.diff) {
        const { runLeakDiff } = await import('./commands/leak-diff.js');
        await runLeakDiff({ intervalSeconds: opts.interval / 1000, limit: opts.limit, skipMemoryCheck: opts.skipMemoryCheck, ...(opts.keep ? { keep: opts.keep } : {}) }, ctx);
        return;
      }
      const { runLeaks } = await import('./commands/leaks.js');
      await runLeaks(opts, ctx);
    }));

  program
    .command('check')
    .description('smoke-check a deployment: reachable, TLS, refuses anonymous callers, token and scopes, no leak')
    .option('--require <scopes>', 'scopes the token must have, comma-separated (e.g. heap,repl)')
    .option('--no-leak-check', 'do not fail on a suspected leak')
    .option('--require-leak-verdict', 'fail, rather than skip, when there is no leak verdict yet (a process just started)', false)
    .option('--heapdump', 'also take a heap snapshot to a temporary file and verify it', false)
    .option('--junit <file>', 'write the results as JUnit XML (mode 0600)')
    .addHelpText('after', examples('opsctl check', 'opsctl check --require heap,repl --junit check.xml'))
    .action(run(async (ctx, opts: { require?: string; leakCheck: boolean; requireLeakVerdict: boolean; heapdump: boolean; junit?: string }) => {
      const { runCheck } = await import('./commands/check.js');
      await runCheck(opts, ctx);
    }));

  program
    .command('fleet')
    .description('ask Prometheus which instance to dig into: every endpoint\'s leak verdict, growth and memory, worst first')
    .requiredOption('--prometheus <url>', 'Prometheus\' address, e.g. http://prometheus:9090')
    .option('--selector <selector>', 'only instances whose series match this PromQL label selector, e.g. \'{app="shop"}\'')
    .option('--prometheus-token-file <file>', 'send the bearer token in this file to Prometheus (default: OPSCTL_PROMETHEUS_TOKEN)')
    .option('--heapdump-worst', 'then take a heap snapshot of the first instance listed', false)
    .option('--endpoint <template>', 'with --heapdump-worst: an instance\'s endpoint URL, its labels in braces, e.g. \'https://{instance}\'')
    .option('-o, --out <dir>', 'with --heapdump-worst: the directory for the snapshot (default: the current directory)')
    .addHelpText('after', `
The instances are those Prometheus scrapes: each endpoint's /metrics, read with a token
of scope metrics (scrape config and alert rules: docs/monitoring.md in the opsctl
repository). Worst first: by verdict (suspected, growing, ok, unknown), then by growth.
--heapdump-worst reaches the first one through --endpoint: {instance} is the address
Prometheus scrapes; any other label of the target works too ({pod}, {namespace}). The
token is OPSCTL_TOKEN, else that of --context or the current context (with its CA); it
needs the heap scope.
${examples(
    'opsctl fleet --prometheus http://prometheus:9090',
    'opsctl fleet --prometheus http://prometheus:9090 --selector \'{app="shop"}\' --json',
    'opsctl fleet --prometheus http://prometheus:9090 --heapdump-worst --endpoint \'https://{instance}\' --out ./dumps/',
  )}`)
    .action(run(async (ctx, opts: { prometheus: string; selector?: string; prometheusTokenFile?: string; heapdumpWorst: boolean; endpoint?: string; out?: string }) => {
      const { runFleet } = await import('./commands/fleet.js');
      await runFleet(opts, ctx);
    }));

  const token = program.command('token').description('mint tokens for an application\'s configuration')
    .addHelpText('after', examples('opsctl token new --name alice --scopes admin'));
  token
    .command('new')
    .description('print a new token once, and the configuration line holding its hash')
    .requiredOption('--name <name>', 'who will hold the token (shown in audit logs)')
    // Written out: --help loads commander alone, not the protocol (token.test.ts checks it against SCOPE_LIST).
    .requiredOption('--scopes <list>', 'comma-separated: metrics, read, heap, profile, actions, repl, admin')
    .addHelpText('after', examples('opsctl token new --name alice --scopes admin', 'opsctl token new --name ci --scopes read --json'))
    .action(run(async (ctx, opts: { name: string; scopes: string }) => {
      const { runTokenNew } = await import('./commands/token.js');
      await runTokenNew(opts, ctx);
    }));

  program
    .command('completion')
    .description('print a shell completion script for bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    .addHelpText('after', examples(
      'opsctl completion bash >> ~/.bashrc',
      'source <(opsctl completion bash)              # this shell only',
      'opsctl completion zsh > "${fpath[1]}/_opsctl"',
      'opsctl completion fish > ~/.config/fish/completions/opsctl.fish',
    ))
    .action(run(async (ctx, shell: 'bash' | 'zsh' | 'fish') => {
      const { runCompletion } = await import('./commands/completion.js');
      runCompletion(shell, program, ctx);
    }));

  return program;
}
