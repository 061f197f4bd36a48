// opsctl context list | use NAME | show [NAME] | remove NAME: the named targets.
import type { TargetContext } from '../config.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { knownContext, removeContext, type RemovedContext } from '../operations/contexts.js';

export interface ContextEntry extends TargetContext {
  name: string;
  current: boolean;
}

export async function runContextList(ctx: Context): Promise<ContextEntry[]> {
  const config = await ctx.configFile.read();
  const entries = Object.entries(config.contexts).map(([name, c]) => ({ name, current: name === config.current, ...c }));
  ctx.out.result(entries, (list, c) => {
    if (list.length === 0) return 'No contexts. Create one with: opsctl login URL --name NAME';
    const width = Math.max(...list.map((e) => e.name.length));
    return list
      .map(
        (e) =>
          `${e.current ? c.green('*') : ' '} ${e.name.padEnd(width)}  ${e.url}  ${c.dim(e.credential === 'file' ? '(token in file)' : '(token in keychain)')}`,
      )
      .join('\n');
  });
  return entries;
}

export async function runContextUse(name: string, ctx: Context): Promise<ContextEntry> {
  const config = await ctx.configFile.read();
  const stored = knownContext(config.contexts, name);
  await ctx.configFile.update((data) => {
    data.current = name;
  });
  const entry = { name, current: true, ...stored };
  ctx.out.result(entry, (e, c) => `${c.green('✔')} Now using "${e.name}" (${e.url})`);
  return entry;
}

export async function runContextShow(name: string | undefined, ctx: Context): Promise<ContextEntry> {
  const config = await ctx.configFile.read();
  const chosen = name ?? ctx.options.context ?? config.current;
  if (!chosen) throw new CliError('NO_TARGET', 'no context is selected', { hint: 'run: opsctl context use NAME' });
  const entry = { name: chosen, current: chosen === config.current, ...knownContext(config.contexts, chosen) };
  ctx.out.result(entry, (e) =>
    [
      `name        ${e.name}${e.current ? ' (current)' : ''}`,
      `url         ${e.url}`,
      `token in    ${e.credential === 'file' ? 'file (insecure storage)' : 'OS keychain'}`,
      ...(e.ca ? [`ca          ${e.ca}`] : []),
      ...(e.insecure ? ['insecure    plain http allowed to a non-loopback host'] : []),
    ].join('\n'),
  );
  return entry;
}

export async function runContextRemove(name: string, ctx: Context): Promise<RemovedContext> {
  const result = await removeContext(name, ctx);
  ctx.out.result(result, (r, c) => `${c.green('✔')} Removed "${r.context}"${r.tokenRemoved ? ' and its token' : ''}`);
  return result;
}
