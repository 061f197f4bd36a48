// The command line: the global flags and help, and the commands in the order `--help`
// lists them. Each command registers its own flags in commands/<name>.command.ts; its
// run function (and undici, ora, chalk, keytar behind it) loads only when it runs, so
// `opsctl --help` loads commander alone.
import { Command, Help, Option, type HelpContext } from 'commander';
import { registerActions } from './commands/actions.command.js';
import { registerBlocks } from './commands/blocks.command.js';
import { registerCheck } from './commands/check.command.js';
import { registerCompletion } from './commands/completion.command.js';
import { registerContext } from './commands/context.command.js';
import { registerFleet } from './commands/fleet.command.js';
import { registerHeapdiff } from './commands/heapdiff.command.js';
import { registerHeapdump } from './commands/heapdump.command.js';
import { registerLeaks } from './commands/leaks.command.js';
import { registerLogin } from './commands/login.command.js';
import { registerLogout } from './commands/logout.command.js';
import { registerProfile } from './commands/profile.command.js';
import { registerRepl } from './commands/repl.command.js';
import { registerReport } from './commands/report.command.js';
import { registerRun } from './commands/run.command.js';
import { registerSnapshots } from './commands/snapshots.command.js';
import { registerStack } from './commands/stack.command.js';
import { registerStatus } from './commands/status.command.js';
import { registerToken } from './commands/token.command.js';
import { examples, type Runner } from './define.js';
import { durationFlag } from './flags.js';
import { version } from './version.js';

export interface ProgramIo {
  writeOut(text: string): void;
  writeErr(text: string): void;
}

// Connect and answer timeout: long enough for a busy process, short enough for CI.
const DEFAULT_TIMEOUT_MS = 10_000;

// In the order `opsctl --help` lists them.
const COMMANDS = [
  registerLogin,
  registerLogout,
  registerContext,
  registerStatus,
  registerStack,
  registerBlocks,
  registerHeapdump,
  registerProfile,
  registerReport,
  registerActions,
  registerRun,
  registerSnapshots,
  registerRepl,
  registerHeapdiff,
  registerLeaks,
  registerCheck,
  registerFleet,
  registerToken,
  registerCompletion,
];

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

export function buildProgram(run: Runner, io: ProgramIo): Command {
  const program = new OpsctlCommand('opsctl')
    .description('Reach a running Node.js process through its @opsctl/endpoint: memory, heap snapshots, leaks, profiles, actions, REPL.')
    .version(version, '-V, --version')
    .option('--context <name>', 'use this named context instead of the current one')
    .option('--url <url>', 'talk to this endpoint URL (token from OPSCTL_TOKEN)')
    .option('--json', 'print one JSON document on stdout', false)
    .option('--no-color', 'no colours (also NO_COLOR=1)')
    .option('--ca <file>', "trust this PEM CA for the endpoint's TLS certificate")
    .option('--insecure', 'allow sending the token over plain http to a non-loopback host', false)
    .addOption(
      new Option('--timeout <duration>', 'connect and answer timeout, e.g. 30s').argParser(durationFlag({ min: 1 })).default(DEFAULT_TIMEOUT_MS, '10s'),
    )
    .option('--verbose', 'show causes and stack traces of errors', false)
    .showSuggestionAfterError(true)
    // A flag is off unless given: "(default: false)" on every one of them is noise.
    .configureHelp({
      showGlobalOptions: true,
      optionDescription: (option) => new Help().optionDescription(option).replace(/ \(default: false\)$/, ''),
    })
    .exitOverride()
    .configureOutput({ writeOut: io.writeOut, writeErr: io.writeErr })
    .addHelpText(
      'after',
      `
Environment:
  OPSCTL_URL, OPSCTL_TOKEN   target and token, for CI (OPSCTL_TOKEN beats stored tokens)
  OPSCTL_CONTEXT             context to use instead of the current one
  OPSCTL_CONFIG_DIR          where contexts live (default: $XDG_CONFIG_HOME/opsctl)
  OPSCTL_PROMETHEUS_TOKEN    bearer token for Prometheus (opsctl fleet)
  XDG_CACHE_HOME             on Node 22.1+, compiled code is kept in $XDG_CACHE_HOME/opsctl/
                             compile-cache (default ~/.cache/...; safe to delete);
                             NODE_DISABLE_COMPILE_CACHE=1 turns it off
  NO_COLOR, FORCE_COLOR      colour control

Durations: 1500ms, 10s, 5m, 1m30s. Sizes: 65536, 64KB, 1.5MB (KB = 1000 bytes;
KiB, MiB for powers of two).

Exit codes: 0 ok, 1 failure, 2 usage, 3 authentication or authorisation,
            4 unreachable or connection lost, 5 leak suspected,
            130 interrupted (Ctrl-C), 143 terminated (SIGTERM)
${examples('opsctl login https://app.internal:9500', 'opsctl status', 'opsctl heapdump', 'opsctl completion bash >> ~/.bashrc')}`,
    );

  for (const register of COMMANDS) register(program, run);
  return program;
}
