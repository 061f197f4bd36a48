// opsctl run NAME key=value…: runs one of the application's actions. The endpoint checks
// the parameters against the action's schema (a bad one: exit 2, naming it) and answers
// with what the action returned, printed as JSON; an action that throws exits 1 with its
// message.
import { ACTION_NAME_PATTERN, ACTION_TIMEOUT_MAX_MS, type ActionRunResponse } from '../endpoint/protocol.js';
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
  const params = parseAssignments(opts.name, opts.assignments);
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

/** `key=value` words as an object; a value may contain "=" and be empty. */
export function parseAssignments(action: string, words: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const word of words) {
    const cut = word.indexOf('=');
    if (cut <= 0)
      throw new CliError('USAGE', `"${word}" is not a key=value parameter`, {
        hint: `write parameters as key=value, e.g. opsctl run ${action} ${/^[A-Za-z_]\w*$/.test(word) ? word : 'name'}=VALUE; see them with: opsctl actions`,
      });
    const key = word.slice(0, cut);
    if (Object.hasOwn(params, key)) throw new CliError('USAGE', `the parameter "${key}" is given twice`, { hint: 'give each parameter once' });
    params[key] = word.slice(cut + 1);
  }
  return params;
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : formatDuration(ms / 1000);
}
