// opsctl logout [NAME]: removes the context's stored token and the context.
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { removeContext, type RemovedContext } from '../operations/contexts.js';

export interface LogoutOptions {
  name?: string;
}

export async function runLogout(opts: LogoutOptions, ctx: Context): Promise<RemovedContext> {
  const name = opts.name ?? ctx.options.context ?? (await ctx.configFile.read()).current;
  if (!name) throw new CliError('USAGE', 'no context to log out of', { hint: 'name it: opsctl logout NAME' });
  const result = await removeContext(name, ctx);
  ctx.out.result(result, (r, c) => `${c.green('✔')} Logged out of "${r.context}"${r.tokenRemoved ? '; its token was deleted' : ' (no token was stored)'}`);
  return result;
}
