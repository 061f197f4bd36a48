// opsctl repl: an interactive REPL inside the target process over an HTTP Upgrade, or
// with -e / piped stdin a one-shot evaluation whose exit code says whether it threw.
// When a session's connection ends without the operator leaving, opsctl asks whether
// the process still answers: if not (or another one does), it says the connection was
// lost and exits 4 instead of ending as if all were well.
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { REPL_PROTOCOL, replPrivateMessage, TERMINAL_HEADER, type EvalResponse, type ReplStatus } from '../endpoint/protocol.js';
import type { Client } from '../client/http.js';
import type { Context } from '../context.js';
import { CliError, isCliError } from '../errors.js';
import { formatDurationMs } from '../ui/format.js';
import { readAllInput } from '../ui/prompt.js';
import { ReplHistory } from '../ui/repl-history.js';
import { TerminalFilter } from '../ui/terminal-filter.js';

export interface ReplOptions {
  eval?: string;
  /**
   * Milliseconds for the synchronous part of a one-shot evaluation (and for awaiting its
   * result): up to the application's repl.evalTimeoutMs, never more (the endpoint refuses more).
   */
  evalTimeout?: number;
}

export async function runRepl(opts: ReplOptions, ctx: Context): Promise<EvalResponse | null> {
  if (opts.eval !== undefined) {
    if (opts.eval.trim() === '') throw new CliError('USAGE', '-e was given no code', { hint: "give it an expression: opsctl repl -e 'process.uptime()'" });
    return evaluateOnce(opts.eval, opts, ctx);
  }
  if (!ctx.stdin.isTTY) {
    const code = await readAllInput(ctx.stdin, 1024 * 1024);
    if (code === '') throw new CliError('USAGE', 'no code on stdin', { hint: 'pipe a script in, use -e EXPR, or run opsctl repl on a terminal' });
    const command = /^\s*(\.(?:exit|help|break|clear|editor|load|save))\b/m.exec(code)?.[1];
    if (command !== undefined) {
      throw new CliError('USAGE', `${command} is a command of interactive sessions; piped input is evaluated as one script`, {
        hint: 'leave REPL commands out of piped code, or run opsctl repl on a terminal',
      });
    }
    return evaluateOnce(code, opts, ctx);
  }
  if (ctx.options.json) throw new CliError('USAGE', '--json needs -e EXPR or code on stdin; an interactive session has no JSON form');
  await interactive(ctx);
  return null;
}

async function evaluateOnce(code: string, opts: ReplOptions, ctx: Context): Promise<EvalResponse> {
  const client = await ctx.client();
  const answer = await client.json<EvalResponse>('/eval', { body: { code, ...(opts.evalTimeout ? { timeoutMs: Math.ceil(opts.evalTimeout) } : {}) } });
  if (ctx.options.json) ctx.out.result(answer, () => '');
  else {
    if (answer.output !== '') ctx.out.data(answer.output);
    if (answer.ok) ctx.out.result(answer, (a) => a.result);
  }
  if (!answer.ok) {
    if (answer.timedOut) throw new CliError('EVAL_THREW', `the evaluation was stopped: ${answer.error.message}`, { hint: await timeoutHint(client, opts) });
    throw new CliError('EVAL_THREW', uncaught(answer.error));
  }
  // Errors the code raised on its own after it answered (a promise it left rejected): the
  // endpoint contained them, and node's REPL would have shown them, so does this.
  const later = answer.uncaught ?? [];
  const [first] = later;
  if (first !== undefined) {
    throw new CliError('EVAL_THREW', `${uncaught(first)}${later.length > 1 ? ` (and ${later.length - 1} more)` : ''}`, {
      hint: 'the code left a promise rejected without a handler, or a callback it scheduled threw; the process goes on',
    });
  }
  return answer;
}

/** As node's REPL words it: "Uncaught TypeError: …", "Uncaught 5" for a thrown non-error. */
function uncaught({ name, message }: { name: string; message: string }): string {
  // node's REPL throws an empty SyntaxError for code that ends mid-expression ("1+").
  if (name === 'SyntaxError' && message === '') return 'Uncaught SyntaxError: the code ends in the middle of an expression or statement';
  if (name === 'Thrown') return `Uncaught ${message}`;
  return message === '' ? `Uncaught ${name}` : `Uncaught ${name}: ${message}`;
}

/** The application's limit is the most a caller gets: say what it is, and whether --eval-timeout can still go up. */
async function timeoutHint(client: Client, opts: ReplOptions): Promise<string> {
  // The answer does not carry the limit; the REPL's status does (unless all sessions are busy).
  const max = await client.json<ReplStatus>('/repl').then(
    (status) => status.evalTimeoutMs,
    () => null,
  );
  if (max === null) return 'the application sets the most an evaluation may take (repl.evalTimeoutMs); evaluate less at once';
  const allowed = `the application allows at most ${formatDurationMs(max)}, set by repl.evalTimeoutMs`;
  return opts.evalTimeout !== undefined && opts.evalTimeout < max
    ? `${allowed}: raise --eval-timeout up to ${formatDurationMs(max)}, or evaluate less at once`
    : `${allowed}; evaluate less at once`;
}

async function interactive(ctx: Context): Promise<void> {
  const client = await ctx.client();
  // A refused upgrade tells undici nothing readable: ask plainly first (401, 403, 404, 429).
  const status = await client.json<ReplStatus>('/repl');
  const answering = client.instance;
  const columns = ctx.out.columns;
  const socket = (await client.upgrade('/repl', REPL_PROTOCOL, {
    [TERMINAL_HEADER]: `tty=1; cols=${columns}; rows=${ctx.out.rows}`,
  })) as Socket;
  socket.setKeepAlive?.(true, 30_000);
  ctx.out.info(
    ctx.out.ce.dim(
      `connected to ${status.prompt.replace(/> $/, '')}; Ctrl-D or .exit to leave (idle sessions close after ${Math.round(status.idleTimeoutMs / 60_000)} min)`,
    ),
  );

  const stdin = ctx.stdin;
  // Raw mode sends Ctrl-C and Ctrl-D to the remote REPL, which treats them as node does.
  // Every way out of this function restores the terminal below (the session ends, Ctrl-C
  // through ctx.signal, an error); when the process itself exits (process.exit, a
  // signal, a crash) node restores the terminal mode it started with.
  stdin.setRawMode?.(true);
  // The operator's history of this target, kept here; the session sends back what it evaluates.
  const target = await ctx.target();
  const history = new ReplHistory(ctx.configDir, target.context ?? target.url.host);
  const earlier = history.load();
  if (earlier.length > 0) socket.write(replPrivateMessage('history', JSON.stringify(earlier)));
  const forward = (chunk: Buffer | string) => socket.write(chunk);
  stdin.on('data', forward);
  stdin.resume();
  // A character can arrive split across two chunks: decode across them. Then keep what
  // a REPL draws with, and drop what could take over the terminal (ui/terminal-filter.ts).
  const decoder = new StringDecoder('utf8');
  const filter = new TerminalFilter((kind, text) => kind === 'line' && history.add(text));
  let lastShown = '\n';
  const show = (text: string) => {
    const shown = filter.push(text);
    if (shown === '') return;
    ctx.out.data(shown);
    lastShown = shown.at(-1) ?? lastShown;
  };
  socket.on('data', (chunk: Buffer) => show(decoder.write(chunk)));
  const interrupted = () => socket.destroy();
  ctx.signal.addEventListener('abort', interrupted, { once: true });
  let broken: unknown = null;
  try {
    // A reset connection emits 'error' before 'close': the probe below says what it means.
    socket.on('error', (error) => (broken = error));
    await once(socket, 'close');
  } finally {
    ctx.signal.removeEventListener('abort', interrupted);
    stdin.off('data', forward);
    stdin.setRawMode?.(false);
    stdin.pause();
    show(decoder.end());
    // Left at the prompt (Ctrl-D): the shell's prompt starts on a line of its own.
    if (lastShown !== '\n') ctx.out.data('\n');
  }
  if (!ctx.signal.aborted) await checkStillThere(client, answering, broken);
}

/**
 * The session ended without Ctrl-C: the operator left (.exit, Ctrl-D), the session idled
 * out, or the process went away. Only the process can tell: it still answers (the same
 * one) or it does not.
 */
async function checkStillThere(client: Client, answering: string | null, broken: unknown): Promise<void> {
  try {
    await client.json<ReplStatus>('/repl');
  } catch (error) {
    if (
      isCliError(error) &&
      (error.code === 'UNREACHABLE' || error.code === 'CONNECTION_LOST' || error.code === 'TIMEOUT' || error.code === 'ENDPOINT_SHUTTING_DOWN')
    ) {
      throw client.connectionLost(broken ?? error);
    }
    // It answers, if only to refuse (all sessions busy): it is there.
  }
  if (answering !== null && client.instance !== answering) {
    throw new CliError(
      'CONNECTION_LOST',
      `the connection to the process was lost: another process answers at ${client.url.host} now (was ${answering}, now ${client.instance})`,
      {
        hint: 'the application restarted; open a new session: opsctl repl',
      },
    );
  }
}
