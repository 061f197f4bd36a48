// What opsctl context and opsctl logout both do to the stored contexts.
import type { TargetContext } from '../config.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';

export interface RemovedContext {
  context: string;
  tokenRemoved: boolean;
}

/** Deletes the context's stored token, then the context itself. */
export async function removeContext(name: string, ctx: Context): Promise<RemovedContext> {
  const stored = knownContext((await ctx.configFile.read()).contexts, name);
  const tokenRemoved = await (await ctx.credentials(stored.credential)).delete(name);
  await ctx.configFile.update((data) => {
    delete data.contexts[name];
    if (data.current === name) data.current = null;
  });
  return { context: name, tokenRemoved };
}

/** The stored context named `name`; UNKNOWN_CONTEXT, naming the known ones, when there is none. */
export function knownContext(contexts: Record<string, TargetContext>, name: string): TargetContext {
  const stored = contexts[name];
  if (stored === undefined) {
    throw new CliError('UNKNOWN_CONTEXT', `no context named "${name}"`, {
      hint: Object.keys(contexts).length > 0 ? `known: ${Object.keys(contexts).join(', ')}` : 'run: opsctl login URL --name NAME',
    });
  }
  return stored;
}
