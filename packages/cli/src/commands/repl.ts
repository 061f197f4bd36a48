// opsctl repl: an interactive REPL inside the target process over an HTTP Upgrade, or
// with -e / piped stdin a one-shot evaluation whose exit code says whether it threw.
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { REPL_PROTOCOL, TERMINAL_HEADER, type EvalResponse, type ReplStatus } from '@opsctl/endpoint/protocol';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { readAllInput } from '../ui/prompt.js';

export interface ReplOptions {
  eval?: string;
  /** Milliseconds for the synchronous part of a one-shot evaluation (the endpoint caps it). */
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
  const answer = await client.json<EvalResponse>('/eval', { body: { code, ...(opts.evalTimeout ? { timeoutMs: opts.evalTimeout } : {}) } });
  if (ctx.options.json) ctx.out.result(answer, () => '');
  else {
    if (answer.output !== '') ctx.out.data(answer.output);
    if (answer.ok) ctx.out.result(answer, (a) => a.result);
  }
  if (!answer.ok) {
    const { name, message } = answer.error;
    throw new CliError('EVAL_THREW', answer.timedOut ? `the evaluation was stopped: ${message}` : `Uncaught ${name}: ${message}`, {
      ...(answer.timedOut ? { hint: 'raise the limit with --eval-timeout MS, or evaluate less at once' } : {}),
    });
  }
  return answer;
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
  const restore = () => {
    stdin.setRawMode?.(false);
    stdin.pause();
  };
  // Raw mode sends Ctrl-C and Ctrl-D to the remote REPL, which treats them as node does.
  process.once('exit', restore);
  stdin.setRawMode?.(true);
  const forward = (chunk: Buffer | string) => socket.write(chunk);
  stdin.on('data', forward);
  stdin.resume();
  socket.on('data', (chunk: Buffer) => ctx.out.data(chunk.toString('utf8')));
  const interrupted = () => socket.destroy();
  ctx.signal.addEventListener('abort', interrupted, { once: true });
  try {
    await once(socket, 'close');
  } finally {
    ctx.signal.removeEventListener('abort', interrupted);
    stdin.off('data', forward);
    restore();
    process.off('exit', restore);
  }
}
