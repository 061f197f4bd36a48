// opsctl status: the active target, whether it answers, who the token is, the process
// behind it, and whether the OS keychain can keep tokens (and why not), so a machine
// without one is found out before a login needs it.
import type { ChalkInstance } from 'chalk';
import type { InfoResponse } from '../endpoint/protocol.js';
import type { Context } from '../context.js';
import { formatDuration } from '../ui/format.js';
import { describeMainThread } from '../ui/main-thread.js';

export interface StatusResult {
  context: string | null;
  url: string;
  tokenSource: 'environment' | 'keychain' | 'file';
  latencyMs: number;
  caller: InfoResponse['caller'];
  instance: InfoResponse['instance'];
  capabilities: string[];
  capture: InfoResponse['capture'];
  workers: NonNullable<InfoResponse['workers']>;
  mainThread: InfoResponse['mainThread'] | null;
  /** Whether tokens can be kept in the OS keychain; `problem` says why not. */
  keychain: { available: boolean; problem: string | null };
}

export async function runStatus(ctx: Context): Promise<StatusResult> {
  const target = await ctx.target();
  const client = await ctx.client(target);
  const started = performance.now();
  const info = await client.json<InfoResponse>('/info');
  const tokenSource = ctx.env['OPSCTL_TOKEN'] ? 'environment' : (target.credential ?? 'environment');
  // A token just read from the keychain proves it works; otherwise ask it.
  const problem = tokenSource === 'keychain' ? null : await (await import('../credentials/keychain.js')).keychainProblem();
  const result: StatusResult = {
    context: target.context,
    url: target.url.href.replace(/\/$/, ''),
    tokenSource,
    latencyMs: Math.round(performance.now() - started),
    caller: info.caller,
    instance: info.instance,
    capabilities: info.capabilities,
    // Endpoints older than automatic capture and workers send neither.
    capture: info.capture ?? null,
    workers: info.workers ?? [],
    // Endpoints older than the watchdog do not say.
    mainThread: info.mainThread ?? null,
    keychain: { available: problem === null, problem },
  };
  ctx.out.result(result, (r, c) =>
    [
      `${c.bold('target')}    ${r.context ? `${r.context} ` : ''}${r.url} ${c.green('reachable')} (${r.latencyMs} ms)`,
      `${c.bold('caller')}    ${r.caller.token} (scopes: ${r.caller.scopes.join(', ')}; token from ${r.tokenSource})`,
      `${c.bold('instance')}  ${r.instance.app.name}${r.instance.app.version ? ` ${r.instance.app.version}` : ''} on ${r.instance.host}, pid ${r.instance.pid}, up ${formatDuration(r.instance.uptimeSeconds)}, Node ${r.instance.node}`,
      ...(r.mainThread === null ? [] : [`${c.bold('main')}      ${describeMainThread(r.mainThread, c)}`]),
      `${c.bold('offers')}    ${describeOffers(r.capabilities)}`,
      ...(r.capture === null
        ? []
        : [
            `${c.bold('capture')}   ${r.capture.enabled ? `${c.green('on')}, ${r.capture.count} of ${r.capture.maxCount} stored (opsctl snapshots list)` : `${c.red('disabled')}: ${r.capture.disabledReason ?? ''}`}`,
          ]),
      ...(r.workers.length === 0 ? [] : [`${c.bold('workers')}   ${r.workers.map((w) => `${w.name} (thread ${w.threadId})`).join(', ')}`]),
      `${c.bold('keychain')}  ${describeKeychain(r, c)}`,
    ].join('\n'),
  );
  return result;
}

/**
 * Whether tokens can be kept in the OS keychain: a status line, never a warning. Once the
 * token lives in a file (login --insecure-storage, which warned once) the advice to do so
 * is not repeated.
 */
function describeKeychain(r: StatusResult, c: ChalkInstance): string {
  if (r.keychain.available) return 'available for tokens';
  const problem = r.keychain.problem ?? '';
  if (r.tokenSource === 'file') return `unavailable (${problem}); this context's token is kept in a file, as chosen with --insecure-storage`;
  return `${c.yellow('unavailable')}: ${problem}; keep tokens in OPSCTL_TOKEN or log in with --insecure-storage`;
}

/**
 * The commands the endpoint's capabilities (its route names, kept as they are in --json)
 * make work, each once: `leaks` rather than "leaks, leaks-stream". Routes that only
 * serve other commands (info, memory, workers) are left out; a name this CLI does not
 * know yet (a newer endpoint) is shown as it came.
 */
const OFFERS: readonly (readonly [offer: string, routes: readonly string[]])[] = [
  ['heapdump', ['heapdump']],
  ['snapshots', ['snapshots', 'snapshot-get', 'snapshot-delete']],
  ['leaks', ['leaks', 'leaks-stream']],
  ['profile cpu', ['profile-cpu']],
  ['profile heap', ['profile-heap']],
  ['blocks', ['blocks', 'blocks-stream']],
  ['stack', ['stack']],
  ['report', ['report']],
  ['actions', ['actions']],
  ['run', ['action-run']],
  ['repl', ['repl', 'eval']],
  ['Prometheus metrics', ['metrics']],
  ['health checks', ['health']],
];
const SERVING_OTHERS = new Set(['info', 'memory', 'workers']);

export function describeOffers(capabilities: readonly string[]): string {
  const offered = new Set(capabilities);
  const known = new Set([...SERVING_OTHERS, ...OFFERS.flatMap(([, routes]) => routes)]);
  const offers = OFFERS.filter(([, routes]) => routes.some((route) => offered.has(route))).map(([offer]) => offer);
  return [...offers, ...capabilities.filter((name) => !known.has(name))].join(', ') || 'nothing beyond this status';
}
