// Commander wiring and the one catch that turns every failure into a sentence, a hint
// and an exit code. Command modules, the context and the output (chalk) are imported
// only when a command runs, so `opsctl --help` loads commander alone.
import { Command, CommanderError, Help, InvalidArgumentError, Option } from 'commander';
import type { Context, Env, GlobalOptions, Streams } from './context.js';
import { CliError, EXIT, exitCodeFor, isCliError } from './errors.js';
import { version } from './version.js';

// Connect and answer timeout, seconds: long enough for a busy process, short enough for CI.
const DEFAULT_TIMEOUT_SECONDS = 10;

export interface SystemDeps {
  streams: Streams;
  env: Env;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('give a number of seconds greater than 0.');
  return n;
}

function milliseconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('give a whole number of milliseconds greater than 0.');
  return n;
}

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('give a whole number greater than 0.');
  return n;
}

function wholeNumberOrZero(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('give a whole number, 0 or more.');
  return n;
}

export async function main(argv: readonly string[], deps: SystemDeps): Promise<number> {
  const { streams, env } = deps;
  let ctx: Context | null = null;
  const program = new Command('opsctl')
    .description('Reach a running Node.js process through its @opsctl/endpoint: memory, heap snapshots, leaks, profiles, actions, REPL.')
    .version(version, '-V, --version')
    .option('--context <name>', 'use this named context instead of the current one')
    .option('--url <url>', 'talk to this endpoint URL (token from OPSCTL_TOKEN)')
    .option('--json', 'print one JSON document on stdout', false)
    .option('--no-color', 'no colours (also NO_COLOR=1)')
    .option('--ca <file>', 'trust this PEM CA for the endpoint\'s TLS certificate')
    .option('--insecure', 'allow sending the token over plain http to a non-loopback host', false)
    .addOption(new Option('--timeout <seconds>', 'connect and answer timeout').argParser(seconds).default(DEFAULT_TIMEOUT_SECONDS))
    .option('--verbose', 'show causes and stack traces of errors', false)
    .showSuggestionAfterError(true)
    // A flag is off unless given: "(default: false)" on every one of them is noise.
    .configureHelp({ optionDescription: (option) => new Help().optionDescription(option).replace(/ \(default: false\)$/, '') })
    .exitOverride()
    .configureOutput({
      writeOut: (text) => streams.stdout.write(text),
      writeErr: (text) => streams.stderr.write(text),
    })
    .addHelpText('after', `
Environment:
  OPSCTL_URL, OPSCTL_TOKEN   target and token, for CI (OPSCTL_TOKEN beats stored tokens)
  OPSCTL_CONTEXT             context to use instead of the current one
  OPSCTL_CONFIG_DIR          where contexts live (default: $XDG_CONFIG_HOME/opsctl)
  NO_COLOR, FORCE_COLOR      colour control

Exit codes: 0 ok, 1 failure, 2 usage, 3 authentication or authorisation,
            4 unreachable, 5 leak suspected, 130 interrupted`);

  // Each action gets a context built from the global options it was called with.
  const run = <A extends unknown[]>(fn: (ctx: Context, ...args: A) => Promise<unknown>) =>
    async (...args: [...A, Command]) => {
      const command = args.at(-1) as Command;
      const { createContext } = await import('./context.js');
      ctx = createContext(streams, env, command.optsWithGlobals<GlobalOptions>(), deps.signal);
      await fn(ctx, ...(args.slice(0, -1) as A));
    };

  program
    .command('login')
    .description('verify a token against an endpoint and keep it in the OS keychain')
    .argument('[url]', 'endpoint URL, e.g. https://app.internal:9500')
    .option('--name <name>', 'name of the context (default: the host name)')
    .option('--with-token', 'read the token from stdin', false)
    .option('--insecure-storage', 'keep the token in a mode-0600 file instead of the OS keychain', false)
    .action(run(async (ctx, url: string | undefined, opts: { name?: string; withToken: boolean; insecureStorage: boolean }) => {
      const { runLogin } = await import('./commands/login.js');
      await runLogin({ ...opts, ...(url === undefined ? {} : { url }) }, ctx);
    }));

  program
    .command('logout')
    .description('delete a context and its stored token')
    .option('--name <name>', 'the context (default: the current one)')
    .action(run(async (ctx, opts: { name?: string }) => {
      const { runLogout } = await import('./commands/logout.js');
      await runLogout(opts, ctx);
    }));

  const context = program.command('context').description('list, select, show or remove named targets');
  context.command('list').description('list contexts; * marks the current one').action(run(async (ctx) => {
    const { runContextList } = await import('./commands/context.js');
    await runContextList(ctx);
  }));
  context.command('use').description('make a context the current one').argument('<name>').action(run(async (ctx, name: string) => {
    const { runContextUse } = await import('./commands/context.js');
    await runContextUse(name, ctx);
  }));
  context.command('show').description('show a context (default: the current one)').argument('[name]').action(run(async (ctx, name: string | undefined) => {
    const { runContextShow } = await import('./commands/context.js');
    await runContextShow(name, ctx);
  }));
  context.command('remove').description('delete a context and its stored token').argument('<name>').action(run(async (ctx, name: string) => {
    const { runContextRemove } = await import('./commands/context.js');
    await runContextRemove(name, ctx);
  }));

  program
    .command('status')
    .description('show the target, whether it answers, who you are there, and its process')
    .action(run(async (ctx) => {
      const { runStatus } = await import('./commands/status.js');
      await runStatus(ctx);
    }));

  program
    .command('stack')
    .description('show the main thread\'s JavaScript stack now, and how long its event loop has been blocked')
    .action(run(async (ctx) => {
      const { runStack } = await import('./commands/stack.js');
      await runStack(ctx);
    }));

  program
    .command('blocks')
    .description('list the times the main thread\'s event loop was blocked, with where; --watch follows them')
    .option('--watch', 'print each block as it ends, until Ctrl-C', false)
    .action(run(async (ctx, opts: { watch: boolean }) => {
      const { runBlocks } = await import('./commands/blocks.js');
      await runBlocks(opts, ctx);
    }));

  program
    .command('heapdump')
    .description('write a heap snapshot of the process to a file (opens in Chrome DevTools)')
    .requiredOption('-o, --out <path>', 'file, or directory (then named <app>-<host>-<pid>-<time>.heapsnapshot)')
    .option('--gzip', 'keep the file gzip-compressed (about 7x smaller)', false)
    .option('-f, --force', 'replace an existing file', false)
    .option('--skip-memory-check', 'snapshot even when the endpoint estimates too little memory headroom (risks an OOM kill)', false)
    .option('--worker <name>', 'snapshot this worker thread (as the application registered it) instead of the main thread')
    .addHelpText('after', `
The process is paused while V8 writes the snapshot (about 15-30 s per 200 MB of heap)
and needs far more memory meanwhile (13-18x the heap for small objects, up to 45x
for short strings); the endpoint refuses (exit 1, LOW_MEMORY) when its estimate
would not fit under the process's memory limit.`)
    .action(run(async (ctx, opts: { out: string; gzip: boolean; force: boolean; skipMemoryCheck: boolean; worker?: string }) => {
      const { runHeapdump } = await import('./commands/heapdump.js');
      await runHeapdump(opts, ctx);
    }));

  const profile = program.command('profile').description('profile the process in place, for Chrome DevTools: where CPU time goes, or what allocates');
  for (const kind of ['cpu', 'heap'] as const) {
    profile
      .command(kind)
      .description(kind === 'cpu' ? 'sample the call stacks burning CPU into a .cpuprofile' : 'sample the call stacks allocating memory into a .heapprofile')
      .requiredOption('-o, --out <path>', `file, or directory (then named <app>-<host>-<pid>-<time>.${kind}profile)`)
      .addOption(new Option('-s, --seconds <n>', 'how long to profile; the endpoint allows 1 to 300').argParser(seconds).default(10))
      .addOption(new Option('--interval <n>', kind === 'cpu' ? 'sampling interval in microseconds (endpoint default 1000)' : 'average bytes allocated between samples (endpoint default 32768)').argParser(wholeNumber))
      .option('-f, --force', 'replace an existing file', false)
      .addHelpText('after', `
The process keeps running while it is profiled; one profile at a time. Ctrl-C stops the
profile and writes nothing.`)
      .action(run(async (ctx, opts: { out: string; seconds: number; interval?: number; force: boolean }) => {
        const { runProfile } = await import('./commands/profile.js');
        await runProfile({ kind, ...opts }, ctx);
      }));
  }

  program
    .command('report')
    .description('write Node\'s diagnostic report of the process (stacks, handles, resource usage, limits) to a JSON file')
    .requiredOption('-o, --out <path>', 'file, or directory (then named report-<host>-<pid>-<time>.json)')
    .option('-f, --force', 'replace an existing file', false)
    .action(run(async (ctx, opts: { out: string; force: boolean }) => {
      const { runReport } = await import('./commands/report.js');
      await runReport(opts, ctx);
    }));

  program
    .command('actions')
    .description('list the application\'s own maintenance actions and their parameters')
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
told to stop, but may still be running.`)
    .action(run(async (ctx, name: string, params: string[]) => {
      const { runAction } = await import('./commands/run.js');
      await runAction({ name, assignments: params }, ctx);
    }));

  const snapshots = program.command('snapshots').description('heap snapshots the endpoint captured by itself (its capture rules), to fetch later');
  snapshots.command('list').description('list the captures, and whether capture is on').action(run(async (ctx) => {
    const { runSnapshotsList } = await import('./commands/snapshots.js');
    await runSnapshotsList(ctx);
  }));
  snapshots
    .command('get')
    .description('download a capture, resuming an interrupted download, and verify its SHA-256')
    .argument('<id>', 'the capture, as snapshots list shows it')
    .requiredOption('-o, --out <path>', 'file, or directory (then named <id>.heapsnapshot)')
    .option('--gzip', 'keep it gzip-compressed, as stored (about 7x smaller)', false)
    .option('-f, --force', 'replace an existing file', false)
    .option('--limit-rate <size>', 'download at most this many bytes per second, e.g. 500KB, to spare the application\'s network')
    .action(run(async (ctx, id: string, opts: { out: string; gzip: boolean; force: boolean; limitRate?: string }) => {
      const [{ runSnapshotGet }, { parseByteSize }] = await Promise.all([import('./commands/snapshots.js'), import('./commands/heapdiff.js')]);
      const limitRate = opts.limitRate === undefined ? undefined : parseByteSize(opts.limitRate);
      if (limitRate === 0) throw new CliError('USAGE', '--limit-rate must be more than 0 bytes per second', { hint: 'e.g. --limit-rate 500KB' });
      await runSnapshotGet({ id, out: opts.out, gzip: opts.gzip, force: opts.force, ...(limitRate === undefined ? {} : { limitRate }) }, ctx);
    }));
  snapshots.command('rm').description('remove a capture, making room for new ones').argument('<id>').action(run(async (ctx, id: string) => {
    const { runSnapshotRemove } = await import('./commands/snapshots.js');
    await runSnapshotRemove(id, ctx);
  }));

  program
    .command('repl')
    .description('open a REPL inside the process; with -e or piped stdin, evaluate once')
    .option('-e, --eval <code>', 'evaluate this and print the result; exit 1 if it throws')
    .addOption(new Option('--eval-timeout <ms>', 'limit for the synchronous part of -e (and awaiting its result), at most the application\'s repl.evalTimeoutMs').argParser(milliseconds))
    .addHelpText('after', `
Interactive sessions need a terminal: Tab completes, Ctrl-C cancels the line, Ctrl-D
or .exit leaves. Synchronous code is stopped after the endpoint's limit (5 s by
default), so a stray loop cannot freeze the process; code after an await is not.`)
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
    .addOption(new Option('--limit <n>', 'show at most N classes').default(20).argParser(wholeNumber))
    .option('--min-size <size>', 'leave out classes with less growth (with C: less retained) than this: 65536, 64KB, 1.5MB', '0')
    .addOption(new Option('--retainers <n>', 'find who holds the new objects of the top N classes: retainer paths and the holder\'s retained size (0: none; no edges read, about half the memory and time)').default(5).argParser(wholeNumberOrZero))
    .addHelpText('after', `
Works offline on files from opsctl heapdump, Chrome DevTools or v8.writeHeapSnapshot().
Take them from one process with the suspected leak exercised in between: V8 keeps an
object's id for its life, so with three the report leaves out the warm-up (already in
A) and short-lived objects (gone by C). Retainer paths are found in the last file (B of
two, C of three); strings, internal arrays and the objects a new object owns count
with it.`)
    .action(run(async (ctx, a: string, b: string, c: string | undefined, opts: { sort: 'size' | 'count'; limit: number; minSize: string; retainers: number }) => {
      const { parseByteSize, runHeapdiff } = await import('./commands/heapdiff.js');
      await runHeapdiff({ files: [a, b, c], sort: opts.sort, limit: opts.limit, minSize: parseByteSize(opts.minSize), retainers: opts.retainers }, ctx);
    }));

  program
    .command('leaks')
    .description('does the process leak memory? the verdict and its evidence')
    .option('-w, --watch', 'follow live: redrawn on a terminal, NDJSON lines otherwise; Ctrl-C ends', false)
    .option('--fail-on-leak', 'exit 5 when the verdict is "suspected" (for CI)', false)
    .option('--gc', 'force a GC sample first (at most one per 5 s)', false)
    .option('--diff', 'what grows: three heap snapshots an interval apart, compared (see heapdiff)', false)
    .option('--interval <duration>', 'with --diff: time between snapshots, e.g. 60s, 5m', '60s')
    .option('--keep <dir>', 'with --diff: keep the snapshots in DIR')
    .option('--limit <n>', 'with --diff: show at most N classes', '20')
    .addOption(new Option('--retainers <n>', 'with --diff: retainer paths for the top N classes (0: none)').default(5).argParser(wholeNumberOrZero))
    .option('--skip-memory-check', 'with --diff: snapshot despite the endpoint\'s memory estimate', false)
    .addHelpText('after', `
Verdicts: ok; growing (a trend, not yet proof); suspected (post-GC heap or external
memory has grown steadily for at least 90 s after warm-up). See the README for the rule.
--diff pauses the process three times (once per snapshot); exercise the suspected
leak during the intervals.`)
    .action(run(async (ctx, opts: { watch: boolean; failOnLeak: boolean; gc: boolean; diff: boolean; interval: string; keep?: string; limit: string; retainers: number; skipMemoryCheck: boolean }) => {
      if (opts.diff) {
        const { parseInterval, runLeakDiff } = await import('./commands/leak-diff.js');
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit <= 0) throw new CliError('USAGE', `--limit "${opts.limit}" is not a whole number greater than 0`);
        await runLeakDiff({ intervalSeconds: parseInterval(opts.interval), limit, retainers: opts.retainers, skipMemoryCheck: opts.skipMemoryCheck, ...(opts.keep ? { keep: opts.keep } : {}) }, ctx);
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
    .option('--heapdump', 'also take a heap snapshot to a temporary file and verify it', false)
    .option('--junit <file>', 'write the results as JUnit XML')
    .action(run(async (ctx, opts: { require?: string; leakCheck: boolean; heapdump: boolean; junit?: string }) => {
      const { runCheck } = await import('./commands/check.js');
      await runCheck(opts, ctx);
    }));

  const token = program.command('token').description('mint tokens for an application\'s configuration');
  token
    .command('new')
    .description('print a new token once, and the configuration line holding its hash')
    .requiredOption('--name <name>', 'who will hold the token (shown in audit logs)')
    .requiredOption('--scopes <list>', 'comma-separated: read, heap, profile, actions, repl, admin')
    .action(run(async (ctx, opts: { name: string; scopes: string }) => {
      const { runTokenNew } = await import('./commands/token.js');
      await runTokenNew(opts, ctx);
    }));

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.ok;
      // Commander has printed its one-line message already.
      return error.code === 'commander.executeSubCommandAsync' ? EXIT.failure : EXIT.usage;
    }
    const { Output } = await import('./ui/output.js');
    const out = (ctx as Context | null)?.out ?? new Output({ stdout: streams.stdout, stderr: streams.stderr, env, json: false, noColor: argv.includes('--no-color'), verbose: argv.includes('--verbose') });
    const cliError = isCliError(error) ? error : new CliError('UNEXPECTED', `unexpected failure: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    out.error(cliError);
    if (out.verbose) out.debug(describeCause(error));
    return exitCodeFor(cliError.code);
  } finally {
    await (ctx as Context | null)?.dispose();
  }
}

function describeCause(error: unknown): string {
  const lines: string[] = [];
  for (let e: unknown = error; e instanceof Error; e = e.cause) lines.push(e.stack ?? e.message);
  return lines.join('\ncaused by: ');
}
