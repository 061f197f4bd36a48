// The leak monitor's status, asked once: what opsctl leaks prints, and what opsctl check
// judges.
import type { LeakStatus } from '../endpoint/protocol.js';
import type { Context } from '../context.js';

export async function fetchLeakStatus(ctx: Context, gc = false): Promise<LeakStatus> {
  const client = await ctx.client();
  return client.json<LeakStatus>('/leaks', { query: { gc: gc || undefined } });
}
