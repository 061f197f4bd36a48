// opsctl repl: an interactive REPL inside the target process over an HTTP Upgrade, or
// with -e / piped stdin a one-shot evaluation whose exit code says whether it threw.
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { REPL_PROTOCOL, TERMINAL_HEADER, type EvalResponse, type ReplStatus } from '@opsctl/endpoint/protocol';
import type { Client } from '../client/http.js';
import type { Context } from '../context.js';
import { CliError, isCliError } from '../errors.js';
import { readAllInput } from '../ui/prompt.js';

export interface ReplOptions {
  eval?: string;
  /**
   * Milliseconds for the synchronous part of a one-shot evaluation (and for awaiting its
   * result): up to the application's repl.evalTimeoutMs, never more (the endpoint refuses more).
   */
  evalTimeout?: number;
}

export async function runRepl(opts: ReplOptions, ctx: Context): Promise<EvalResponse | null> {
  if (opts.eval !== undefined) return evaluateOnce(opts.eval, opts, ctx);
  if (!ctx.stdin.isTTY) {
    const code = await readAllInput(ctx.stdin, 1024 * 1024);
    if (code === '') throw new CliError('USAGE', 'no code on stdin', { hint: 'pipe a script in, use -e EXPR, or run opsctl repl on a terminal' });
    return evaluateOnce(code, opts, ctx);
  }
  if (ctx.options.json) throw new CliError('USAGE', '--json needs -e EXPR or code on stdin; an interactive session has no JSON form');
  await interactive(ctx);
  return null;
}

async function evaluateOnce(code: string, opts: ReplOptions, ctx: Context): Promise<EvalResponse> {
  const client = await ctx.client();
  let answer: EvalResponse;
  try {
    answer = await client.json<EvalResponse>('/eval', { body: { code, ...(opts.evalTimeout ? { timeoutMs: opts.evalTimeout } : {}) } });
  } catch (error) {
    // The endpoint names timeoutMs and the application's maximum; the user typed --eval-timeout.
    if (isCliError(error) && error.code === 'ENDPOINT_BAD_PARAM' && opts.evalTimeout !== undefined) {
      throw new CliError(error.code, error.message, { hint: 'give --eval-timeout at most that, or leave it out to get the application\'s limit', ...(error.status === undefined ? {} : { status: error.status }), cause: error });
    }
    throw error;
  }
  if (ctx.options.json) ctx.out.result(answer, () => '');
  else {
    if (answer.output !== '') ctx.out.data(answer.output);
    if (answer.ok) ctx.out.result(answer, (a) => a.result);
  }
  if (!answer.ok) {
    const { name, message } = answer.error;
    throw new CliError('EVAL_THREW', answer.timedOut ? `the evaluation was stopped: ${message}` : `Uncaught ${name}: ${message}`, {
      ...(answer.timedOut ? { hint: await timeoutHint(client, opts) } : {}),
    });
  }
  // Errors the code raised on its own after it answered (a promise it left rejected): the
  // endpoint contained them, and node's REPL would have shown them, so does this.
  const uncaught = answer.uncaught ?? [];
  if (uncaught.length > 0) {
    const [first] = uncaught;
    throw new CliError('EVAL_THREW', `Uncaught ${first?.name}: ${first?.message}${uncaught.length > 1 ? ` (and ${uncaught.length - 1} more)` : ''}`, {
      hint: 'the code left a promise rejected without a handler, or a callback it scheduled threw; the process goes on',
    });
  }
  return answer;
}

/** The application's limit is the most a caller gets: say what it is, and whether --eval-timeout can still go up. */
async function timeoutHint(client: Client, opts: ReplOptions): Promise<string> {
  // The answer does not carry the limit; the REPL's status does (unless all sessions are busy).
  const max = await client.json<ReplStatus>('/repl').then((status) => status.evalTimeoutMs, () => null);
  if (max === null) return 'the application sets the most an evaluation may take (repl.evalTimeoutMs); evaluate less at once';
  const allowed = `the application allows at most ${max} ms, set by repl.evalTimeoutMs`;
  return opts.evalTimeout !== undefined && opts.evalTimeout < max ? `${allowed}: raise --eval-timeout up to ${max}, or evaluate less at once` : `${allowed}; evaluate less at once`;
}

async function interactive(ctx: Context): Promise<void> {
  const client = await ctx.client();
  // A refused upgrade tells undici nothing readable: ask plainly first (401, 403, 404, 429).
  const status = await client.json<ReplStatus>('/repl');
  const stdout = ctx.out;
  const columns = ctx.out.columns;
  const socket = (await client.upgrade('/repl', REPL_PROTOCOL, {
    [TERMINAL_HEADER]: `tty=1; cols=${columns}; rows=${ctx.out.rows}`,
  })) as Socket;
  socket.setKeepAlive?.(true, 30_000);
  stdout.info(ctx.out.ce.dim(`connected to ${status.prompt.replace(/> $/, '')}; Ctrl-D or .exit to leave (idle sessions close after ${Math.round(status.idleTimeoutMs / 60_000)} min)`));

  const stdin = ctx.stdin;
  // Raw mode sends Ctrl-C and Ctrl-D to the remote REPL, which treats them as node does.
  // Every way out of this function restores the terminal below (the session ends, Ctrl-C
  // through ctx.signal, an error); when the process itself exits (process.exit, a
  // signal, a crash) node restores the terminal mode it started with.
  stdin.setRawMode?.(true);
  const forward = (chunk: Buffer | string) => socket.write(chunk);
  stdin.on('data', forward);
  stdin.resume();
  // A character can arrive split across two chunks: decode across them.
  const decoder = new StringDecoder('utf8');
  socket.on('data', (chunk: Buffer) => {
    const text = decoder.write(chunk);
    if (text !== '') ctx.out.data(text);
  });
  const interrupted = () => socket.destroy();
  ctx.signal.addEventListener('abort', interrupted, { once: true });
  try {
    await once(socket, 'close');
  } finally {
    ctx.signal.removeEventListener('abort', interrupted);
    stdin.off('data', forward);
    stdin.setRawMode?.(false);
    stdin.pause();
    const rest = decoder.end();
    if (rest !== '') ctx.out.data(rest);
  }
}
