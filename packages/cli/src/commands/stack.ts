// opsctl stack: the application's main thread's JavaScript stack now, taken by the
// endpoint's own thread through the inspector, with how long its event loop has been
// blocked. It answers while the process cannot: that is when it is needed.
import type { StackResponse } from '../endpoint/protocol.js';
import type { Context } from '../context.js';
import { describeMainThread, formatFrames } from '../ui/main-thread.js';

export async function runStack(ctx: Context): Promise<StackResponse> {
  const client = await ctx.client();
  const answer = await client.json<StackResponse>('/stack');
  ctx.out.result(answer, ({ mainThread }, c) => {
    const lines = [`main thread: ${describeMainThread(mainThread, c)}`];
    if (mainThread.stack !== null) lines.push(formatFrames(mainThread.stack, c));
    else if (mainThread.stackNote !== null) lines.push(c.dim(`no stack: ${mainThread.stackNote}`));
    return lines.join('\n');
  });
  return answer;
}
