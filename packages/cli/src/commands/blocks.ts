// opsctl blocks: the times the application's main thread was blocked past the
// watchdog's threshold, each with its duration and where (the stack taken while it
// lasted); --watch prints each block as it ends, until Ctrl-C.
import type { BlockRecord, BlocksResponse, BlocksStreamLine } from '../endpoint/protocol.js';
import type { ChalkInstance } from 'chalk';
import { ndjsonLines } from '../client/ndjson.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { describeMainThread, formatFrames, seconds, where } from '../ui/main-thread.js';

export interface BlocksOptions {
  watch: boolean;
}

// The endpoint sends a heartbeat every 15 s: three missed ones mean the stream is dead.
const STREAM_SILENCE_MS = 45_000;

export async function runBlocks(opts: BlocksOptions, ctx: Context): Promise<BlocksResponse> {
  const client = await ctx.client();
  if (!opts.watch) {
    const answer = await client.json<BlocksResponse>('/blocks');
    ctx.out.result(answer, (a, c) => renderBlocks(a, c));
    return answer;
  }
  const silence = new AbortController();
  const response = await client.request('/blocks/stream', { stream: true, signal: silence.signal });
  // In a terminal, text; piped or with --json, the stream's own lines, one JSON object each.
  const lines = !ctx.out.stdoutIsTTY || ctx.out.json;
  let status = null as BlocksResponse | null;
  const timer = setTimeout(() => silence.abort(), STREAM_SILENCE_MS);
  try {
    for await (const line of ndjsonLines<BlocksStreamLine>(response.body)) {
      timer.refresh();
      if (line.type === 'status') status = line;
      else if (line.type === 'block' && status !== null) status = { ...status, blocks: [...status.blocks, line.block].slice(-1000) };
      if (lines) ctx.out.data(`${JSON.stringify(line)}\n`);
      else if (line.type === 'status') ctx.out.data(`${renderBlocks(line, ctx.out.c)}\n${ctx.out.c.dim('watching for blocks; Ctrl-C to stop')}\n`);
      else if (line.type === 'block') ctx.out.data(`${renderBlock(line.block, ctx.out.c)}\n`);
    }
  } catch (error) {
    // Ctrl-C ends a watch normally.
    if (ctx.signal.aborted) return status ?? (await client.json<BlocksResponse>('/blocks'));
    if (silence.signal.aborted)
      throw new CliError('UNREACHABLE', `the block stream from ${client.url.host} went silent for ${STREAM_SILENCE_MS / 1000} s`, {
        hint: 'the process may be stalled or gone; run: opsctl status',
      });
    throw client.explain(error);
  } finally {
    clearTimeout(timer);
  }
  if (ctx.signal.aborted) return status ?? (await client.json<BlocksResponse>('/blocks'));
  throw client.connectionLost();
}

function renderBlocks(answer: BlocksResponse, c: ChalkInstance): string {
  const head = [`main thread: ${describeMainThread(answer.mainThread, c)}`];
  if (answer.blocks.length === 0) return [...head, `no blocks longer than ${seconds(answer.thresholdMs)} recorded`].join('\n');
  return [
    ...head,
    `${answer.blocks.length} block${answer.blocks.length === 1 ? '' : 's'} longer than ${seconds(answer.thresholdMs)}, oldest first:`,
    ...answer.blocks.map((block) => renderBlock(block, c)),
  ].join('\n');
}

function renderBlock(block: BlockRecord, c: ChalkInstance): string {
  const top = block.stack?.[0];
  const cause = block.cause === 'heap-snapshot' ? 'a heap snapshot the endpoint wrote' : top === undefined ? c.dim(block.stackNote ?? 'no stack') : where(top);
  const line = `${c.dim(block.startedAt)}  ${c.bold(seconds(block.durationMs).padStart(8))}  ${cause}`;
  return block.stack === null ? line : `${line}\n${formatFrames(block.stack, c, 8)}`;
}
