// opsctl fleet --prometheus URL [--selector SEL]: which replica to dig into. Prometheus
// scrapes every endpoint's GET /metrics (deploy/prometheus/prometheus.yml); this asks it
// for each instance's leak verdict, growth and memory, and lists them worst first. With
// --heapdump-worst it takes the worst one's heap snapshot, reaching it through the
// --endpoint URL template. No discovery of its own: the list is Prometheus'.
import { readFile } from 'node:fs/promises';
import type { ChalkInstance } from 'chalk';
import { PrometheusApi } from '../client/prometheus.js';
import type { Context } from '../context.js';
import { CliError, isCliError } from '../errors.js';
import { checkEndpointTemplate, endpointUrl } from '../fleet/endpoint-template.js';
import { fetchFleet, type FleetInstance, type FleetVerdict } from '../fleet/instances.js';
import { takeHeapSnapshot, type HeapdumpResult } from '../operations/heap-snapshot.js';
import { checkedTarget, parseUrl, type Target } from '../target.js';
import { formatBytes, formatDurationMs } from '../ui/format.js';

export interface FleetOptions {
  /** Prometheus' base URL. */
  prometheus: string;
  /** A PromQL label selector, braces included: `{app="shop"}`. */
  selector?: string;
  /** A file holding the bearer token Prometheus (or the proxy in front of it) wants; else OPSCTL_PROMETHEUS_TOKEN. */
  prometheusTokenFile?: string;
  heapdumpWorst: boolean;
  /** How to reach an instance: a URL template, e.g. `https://{instance}`. */
  endpoint?: string;
  /** With heapdumpWorst: the directory for the snapshot (default: the current one). */
  out?: string;
  /** With heapdumpWorst: send the token without asking (required off a terminal). */
  yes?: boolean;
}

export interface FleetResult {
  /** Worst first. */
  instances: FleetInstance[];
  /** The worst instance's snapshot, with --heapdump-worst. */
  heapdump: (HeapdumpResult & { of: string }) | null;
}

// Long label values (a malicious or misconfigured Prometheus) would push the table off the screen.
const MAX_CELL = 48;

export async function runFleet(opts: FleetOptions, ctx: Context): Promise<FleetResult> {
  const selector = checkSelector(opts.selector);
  if (opts.heapdumpWorst) {
    if (opts.endpoint === undefined)
      throw new CliError('USAGE', '--heapdump-worst needs --endpoint: how to reach an instance', {
        hint: "add --endpoint 'https://{instance}' (any of its labels in braces)",
      });
    checkEndpointTemplate(opts.endpoint);
  }
  const token = await prometheusToken(opts, ctx);
  const url = checkedTarget({ context: null, url: prometheusUrl(opts.prometheus), ca: null, insecure: ctx.options.insecure, credential: null }).url;
  const api = new PrometheusApi({ url, token, timeoutMs: ctx.options.timeout, signal: ctx.signal });
  let instances: FleetInstance[];
  const spinner = await ctx.out.spinner(`asking Prometheus at ${url.host}…`);
  try {
    instances = await fetchFleet(api, selector);
  } finally {
    spinner.stop();
    await api.close();
  }
  const [worst] = instances;
  const heapdump = opts.heapdumpWorst && worst !== undefined ? await heapdumpOf(worst, opts, ctx) : null;
  const result: FleetResult = { instances, heapdump };
  ctx.out.result(result, render);
  return result;
}

function checkSelector(selector: string | undefined): string {
  const trimmed = selector?.trim() ?? '';
  if (trimmed !== '' && !/^\{[\s\S]*\}$/.test(trimmed)) {
    throw new CliError('USAGE', `--selector ${trimmed} is not a label selector in braces`, {
      hint: 'give it as PromQL does, e.g. --selector \'{app="shop"}\'',
    });
  }
  return trimmed;
}

function prometheusUrl(raw: string): URL {
  // parseUrl would point at OPSCTL_TOKEN, which is the endpoints' token.
  const given = URL.canParse(raw) ? new URL(raw) : null;
  if (given?.username || given?.password) {
    throw new CliError('USAGE', "put Prometheus' token in OPSCTL_PROMETHEUS_TOKEN or --prometheus-token-file, not in the URL");
  }
  return parseUrl(raw);
}

/** --prometheus-token-file beats OPSCTL_PROMETHEUS_TOKEN, as flags beat the environment. */
async function prometheusToken(opts: FleetOptions, ctx: Context): Promise<string | null> {
  if (opts.prometheusTokenFile === undefined) return ctx.env['OPSCTL_PROMETHEUS_TOKEN'] || null;
  let text: string;
  try {
    text = await readFile(opts.prometheusTokenFile, 'utf8');
  } catch (error) {
    throw new CliError(
      'USAGE',
      `cannot read --prometheus-token-file ${opts.prometheusTokenFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { cause: error },
    );
  }
  if (text.trim() === '') throw new CliError('USAGE', `--prometheus-token-file ${opts.prometheusTokenFile} is empty`);
  return text.trim();
}

async function heapdumpOf(worst: FleetInstance, opts: FleetOptions, ctx: Context): Promise<FleetResult['heapdump']> {
  const { out } = opts;
  const url = endpointUrl(opts.endpoint ?? '', worst.targetLabels);
  await confirmDestination(url, worst, opts.yes === true, ctx);
  const client = await ctx.client(await endpointTarget(url, ctx));
  if (!ctx.out.json) ctx.out.info(`heap snapshot of ${worst.instance} (${worst.verdict ?? 'no verdict'}) through ${url.href}; the process pauses meanwhile`);
  // --out names a directory: the file is named after the process, as opsctl heapdump names it.
  const result = await takeHeapSnapshot(
    { ...(out === undefined ? {} : { out: out.endsWith('/') ? out : `${out}/` }), gzip: false, force: false, skipMemoryCheck: false },
    client,
    ctx,
  );
  const expected = `${worst.host}; pid=${worst.pid}; start=${worst.startTime}`;
  if (worst.pid !== null && result.instance !== null && result.instance !== expected) {
    ctx.out.warn(
      `the snapshot came from "${result.instance}", not from the process Prometheus reported at ${worst.instance} ("${expected}"): does --endpoint lead to a load balancer?`,
    );
  }
  return { ...result, of: worst.instance };
}

/**
 * The URL comes from labels of what Prometheus scrapes: a pod that exports the metrics
 * and a bad enough verdict is listed first, and would get the token. The operator sees
 * the URL and says yes, on a terminal, or has said --yes.
 */
async function confirmDestination(url: URL, worst: FleetInstance, yes: boolean, ctx: Context): Promise<void> {
  if (yes) return;
  const where = `--heapdump-worst sends your token to ${url.href} (instance ${worst.instance}, as Prometheus reports it)`;
  if (!ctx.stdin.isTTY) {
    throw new CliError('USAGE', `${where}; nothing was sent`, {
      hint: 'check the URL, then pass --yes; with https and your CA (--ca), only a real endpoint can answer',
    });
  }
  const { confirm } = await import('../ui/prompt.js');
  if (!(await confirm(ctx.stdin, { write: (text: string) => ctx.out.raw(text) }, `${where}. Send it?`))) {
    throw new CliError('DECLINED', 'no snapshot taken; the token was not sent');
  }
}

/**
 * The target for an instance's URL: its token is OPSCTL_TOKEN, else the one stored for
 * --context (or the current context), whose CA it trusts too. Replicas share their
 * tokens' configuration, so one context serves them all.
 */
async function endpointTarget(url: URL, ctx: Context): Promise<Target> {
  let known: Target | null = null;
  try {
    known = await ctx.target();
  } catch (error) {
    if (!isCliError(error) || error.code !== 'NO_TARGET') throw error;
  }
  return checkedTarget({ context: known?.context ?? null, url, ca: known?.ca ?? null, insecure: ctx.options.insecure, credential: known?.credential ?? null });
}

const VERDICT_STYLE: Record<FleetVerdict, (c: ChalkInstance, text: string) => string> = {
  unknown: (c, t) => c.dim(t),
  ok: (c, t) => c.green(t),
  growing: (c, t) => c.yellow(t),
  suspected: (c, t) => c.bold.red(t),
};

function render(result: FleetResult, c: ChalkInstance): string {
  const optional = (value: number | null, format: (n: number) => string) => (value === null ? '-' : format(value));
  const rows = result.instances.map((i) => ({
    verdict: i.verdict,
    cells: [
      cell(i.instance),
      cell(i.app ?? '-'),
      i.pid === null ? '-' : String(i.pid),
      i.verdict === null ? 'off' : i.verdict,
      optional(i.growthBytesPerSecond, (n) => `${n >= 0 ? '+' : '-'}${formatBytes(Math.abs(n))}/s`),
      optional(i.heapUsedBytes, formatBytes),
      optional(i.residentBytes, formatBytes),
      optional(i.memoryLimitBytes, formatBytes),
      optional(i.eventLoopDelayP99Seconds, (s) => formatDurationMs(Math.round(s * 1000))),
    ],
  }));
  const header = ['INSTANCE', 'APP', 'PID', 'VERDICT', 'GROWTH', 'HEAP', 'RSS', 'LIMIT', 'LOOP P99'];
  const widths = header.map((title, col) => Math.max(title.length, ...rows.map((row) => row.cells[col]?.length ?? 0)));
  // Names left, numbers right.
  const line = (cells: string[], verdict?: FleetVerdict | null) =>
    cells
      .map((text, col) => {
        const padded = col <= 3 ? text.padEnd(widths[col] ?? 0) : text.padStart(widths[col] ?? 0);
        return col === 3 && verdict ? VERDICT_STYLE[verdict](c, padded) : padded;
      })
      .join('  ')
      .trimEnd();
  const lines = [c.dim(line(header)), ...rows.map((row) => line(row.cells, row.verdict))];
  if (result.heapdump !== null) {
    const h = result.heapdump;
    lines.push(
      '',
      `${c.green('✔')} Heap snapshot of ${c.bold(h.of)} written to ${c.bold(h.path)} (${formatBytes(h.bytes)}, ${h.nodes.toLocaleString('en-US')} objects)`,
      '  open it in Chrome DevTools: Memory tab → Load profile…',
    );
  }
  return lines.join('\n');
}

function cell(text: string): string {
  return text.length > MAX_CELL ? `${text.slice(0, MAX_CELL - 1)}…` : text;
}
