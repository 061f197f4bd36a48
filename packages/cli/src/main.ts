// Parses the command line (program.ts) and holds the one catch that turns every failure
// into a sentence, a hint and an exit code. A command stopped by Ctrl-C or SIGTERM
// exits 130 or 143 whatever it returned, as shells and CI runners expect.
import { CommanderError, type Command } from 'commander';
import type { Context, Env, GlobalOptions, Streams } from './context.js';
import { CliError, EXIT, exitCodeFor, exitCodeForStop, isCliError } from './errors.js';
import type { Runner } from './define.js';
import { buildProgram } from './program.js';
import { argumentsHoldToken, maskTokens, REVOKE_HINT } from './ui/mask.js';

export interface SystemDeps {
  streams: Streams;
  env: Env;
  /** Where downloads go without --out, and what relative paths start from. */
  cwd: string;
  /** Aborted on Ctrl-C or SIGTERM, with the signal's name as its reason. */
  signal: AbortSignal;
}

export async function main(argv: readonly string[], deps: SystemDeps): Promise<number> {
  const { streams, env } = deps;
  let ctx: Context | null = null;
  // Each action gets a context built from the global options it was called with.
  const runner: Runner =
    <A extends unknown[]>(fn: (ctx: Context, ...args: A) => Promise<unknown>) =>
    async (...args: [...A, Command]) => {
      const command = args.at(-1) as Command;
      const { createContext } = await import('./context.js');
      ctx = createContext(streams, env, deps.cwd, command.optsWithGlobals<GlobalOptions>(), deps.signal, Date.now, commandPath(command));
      await fn(ctx, ...(args.slice(0, -1) as A));
    };
  const program = buildProgram(runner, {
    writeOut: (text) => streams.stdout.write(text),
    // Commander echoes what it could not parse: never a token.
    writeErr: (text) => streams.stderr.write(maskTokens(text)),
  });

  const code = await parse();
  return deps.signal.aborted ? exitCodeForStop(deps.signal.reason) : code;

  async function parse(): Promise<number> {
    try {
      await program.parseAsync([...argv], { from: 'user' });
      return EXIT.ok;
    } catch (error) {
      if (error instanceof CommanderError) {
        if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
        // Help shown as an error (`opsctl help nosuch`) is a usage error.
        if (error.code === 'commander.help') return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
        // Commander has printed its one-line message already.
        if (argumentsHoldToken(argv)) streams.stderr.write(`hint: ${REVOKE_HINT}\n`);
        return error.code === 'commander.executeSubCommandAsync' ? EXIT.failure : EXIT.usage;
      }
      const { Output } = await import('./ui/output.js');
      const out =
        (ctx as Context | null)?.out ??
        new Output({
          stdout: streams.stdout,
          stderr: streams.stderr,
          env,
          json: argv.includes('--json'),
          noColor: argv.includes('--no-color'),
          verbose: argv.includes('--verbose'),
        });
      const cliError = isCliError(error)
        ? error
        : new CliError('UNEXPECTED', `unexpected failure: ${(error as Error)?.message ?? String(error)}`, { cause: error });
      out.error(cliError);
      if (argumentsHoldToken(argv)) out.warn(REVOKE_HINT);
      if (out.verbose) out.debug(maskTokens(describeCause(error)));
      return exitCodeFor(cliError.code);
    } finally {
      await (ctx as Context | null)?.dispose();
    }
  }
}

/** "opsctl profile cpu": the command's names from the program down. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function describeCause(error: unknown): string {
  const lines: string[] = [];
  for (let e: unknown = error; e instanceof Error; e = e.cause) lines.push(e.stack ?? e.message);
  return lines.join('\ncaused by: ');
}
