// opsctl run NAME key=value…: runs one of the application's actions. The endpoint checks
// the parameters against the action's schema (a bad one: exit 2, naming it) and answers
// with what the action returned, printed as JSON; an action that throws exits 1 with its
// message.
import { ACTION_NAME_PATTERN, ACTION_TIMEOUT_MAX_MS, type ActionRunResponse, type ActionsResponse } from '../endpoint/protocol.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { formatDuration } from '../ui/format.js';

export interface RunOptions {
  name: string;
  /** `key=value` words. */
  assignments: string[];
}

export async function runAction(opts: RunOptions, ctx: Context): Promise<ActionRunResponse> {
  if (!ACTION_NAME_PATTERN.test(opts.name)) {
    throw new CliError('USAGE', `"${opts.name}" is not an action name`, { hint: "list the application's actions: opsctl actions" });
  }
  // A word without "=" is most likely a value: the hint names the action's own parameters, asked for only then.
  const paramNames = opts.assignments.some((word) => word.indexOf('=') <= 0) ? await actionParams(opts.name, ctx) : null;
  const params = parseAssignments(opts.name, opts.assignments, paramNames);
  const client = await ctx.client();
  const spinner = await ctx.out.spinner(`running ${opts.name}…`);
  try {
    const response = await client.json<ActionRunResponse>(`/actions/${opts.name}`, {
      method: 'POST',
      body: { params },
      // The endpoint answers within the action's time limit, at most ACTION_TIMEOUT_MAX_MS.
      headersTimeoutMs: ACTION_TIMEOUT_MAX_MS + ctx.options.timeout,
    });
    spinner.stop();
    ctx.out.result(response, (r) => JSON.stringify(r.result, null, 2));
    if (!ctx.out.json) ctx.out.info(ctx.out.ce.dim(`${opts.name} finished in ${formatMs(response.durationMs)}`));
    return response;
  } finally {
    spinner.stop();
  }
}

/** The names of the action's parameters, or null when the endpoint does not say (no such action, no answer). */
async function actionParams(action: string, ctx: Context): Promise<string[] | null> {
  try {
    const { actions } = await (await ctx.client()).json<ActionsResponse>('/actions');
    const found = actions.find((a) => a.name === action);
    return found === undefined ? null : Object.keys(found.params);
  } catch {
    return null;
  }
}

/**
 * `key=value` words as an object; a value may contain "=" and be empty. `paramNames`, the
 * action's parameters when known, make the hint for a bare word name them.
 */
export function parseAssignments(action: string, words: readonly string[], paramNames: readonly string[] | null = null): Record<string, string> {
  const params: Record<string, string> = {};
  for (const word of words) {
    const cut = word.indexOf('=');
    if (cut <= 0) throw new CliError('USAGE', `"${word}" is not a key=value parameter`, { hint: bareWordHint(action, word, words, paramNames) });
    const key = word.slice(0, cut);
    if (Object.hasOwn(params, key)) throw new CliError('USAGE', `the parameter "${key}" is given twice`, { hint: 'give each parameter once' });
    params[key] = word.slice(cut + 1);
  }
  return params;
}

function bareWordHint(action: string, word: string, words: readonly string[], paramNames: readonly string[] | null): string {
  if (paramNames !== null && paramNames.length === 0) return `${action} takes no parameters: opsctl run ${action}`;
  if (paramNames === null) return `write parameters as key=value, e.g. opsctl run ${action} name=VALUE; see them with: opsctl actions`;
  // A parameter's name without its value; else the word is a value: for the first parameter not given yet.
  if (paramNames.includes(word)) return `write parameters as key=value, e.g. opsctl run ${action} ${word}=VALUE; ${action} takes ${paramNames.join(', ')}`;
  const given = new Set(words.map((w) => w.slice(0, Math.max(0, w.indexOf('=')))));
  const key = paramNames.find((name) => !given.has(name)) ?? paramNames[0];
  const value = /^[\w.,:@+-]{1,64}$/.test(word.slice(word.startsWith('=') ? 1 : 0)) ? word.slice(word.startsWith('=') ? 1 : 0) : 'VALUE';
  return `write parameters as key=value, e.g. opsctl run ${action} ${key}=${value}; ${action} takes ${paramNames.join(', ')}`;
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : formatDuration(ms / 1000);
}
