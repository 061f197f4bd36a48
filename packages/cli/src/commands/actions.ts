// opsctl actions: the application's own maintenance commands, with their parameters.
import type { ChalkInstance } from 'chalk';
import type { ActionParamInfo, ActionsResponse } from '../endpoint/protocol.js';
import type { Context } from '../context.js';

export async function runActions(ctx: Context): Promise<ActionsResponse> {
  const client = await ctx.client();
  const response = await client.json<ActionsResponse>('/actions');
  ctx.out.result(response, renderActions);
  return response;
}

function renderActions(response: ActionsResponse, c: ChalkInstance): string {
  if (response.actions.length === 0) return 'The application defines no actions.';
  const width = Math.max(...response.actions.map((a) => a.name.length));
  const indent = ' '.repeat(width + 2);
  const lines: string[] = [];
  for (const action of response.actions) {
    lines.push(`${c.bold(action.name.padEnd(width))}  ${action.description}`);
    const params = Object.entries(action.params);
    if (params.length > 0) lines.push(`${indent}${params.map(([name, param]) => describeParam(name, param, c)).join('  ')}`);
  }
  lines.push('', `Run one: opsctl run NAME key=value…`);
  return lines.join('\n');
}

/** `name=<type>` with what else matters: required, default, the enum's values, secret. */
function describeParam(name: string, param: ActionParamInfo, c: ChalkInstance): string {
  const value = param.type === 'enum' ? (param.values ?? []).join('|') : param.type === 'boolean' ? 'true|false' : `<${param.type}>`;
  const notes = [
    param.required ? 'required' : null,
    param.default === undefined ? null : `default ${String(param.default)}`,
    param.secret ? 'secret' : null,
  ].filter((note) => note !== null);
  return `${name}=${c.cyan(value)}${notes.length > 0 ? c.dim(` (${notes.join(', ')})`) : ''}`;
}
