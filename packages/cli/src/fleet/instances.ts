// The fleet as Prometheus sees it: every opsctl endpoint it scrapes (one
// opsctl_instance_info series each), with its leak verdict, growth and memory, worst
// first. Keyed on the metrics' values as GET /metrics documents them
// (packages/endpoint/src/routes/metrics.ts), not on the endpoint's types.
import type { PrometheusApi, PrometheusSample } from '../client/prometheus.js';
import { CliError } from '../errors.js';

/** opsctl_leak_verdict's values. */
const VERDICT_NAMES: Readonly<Record<number, FleetVerdict>> = { [-1]: 'unknown', 0: 'ok', 1: 'growing', 2: 'suspected' };
export type FleetVerdict = 'unknown' | 'ok' | 'growing' | 'suspected';

export interface FleetInstance {
  job: string;
  instance: string;
  /** The labels Prometheus gives every series of this target (job, instance, and what relabeling adds): what --endpoint templates fill in. */
  targetLabels: Readonly<Record<string, string>>;
  app: string | null;
  version: string | null;
  host: string | null;
  pid: number | null;
  startTime: string | null;
  /** The worst series' verdict; null when the endpoint's leak detection is off. */
  verdict: FleetVerdict | null;
  /** opsctl_leak_verdict as Prometheus holds it: -1 not enough data, 0 ok, 1 growing, 2 suspected. */
  verdictValue: number | null;
  /** Which series has that verdict: heap or external. */
  series: string | null;
  /** The fastest growth among the series, bytes per second; null without a trend yet. */
  growthBytesPerSecond: number | null;
  heapUsedBytes: number | null;
  residentBytes: number | null;
  memoryLimitBytes: number | null;
  eventLoopDelayP99Seconds: number | null;
}

/** What each instance's row is made from: one instant query a metric. */
const METRICS = {
  up: 'up',
  info: 'opsctl_instance_info',
  verdict: 'opsctl_leak_verdict',
  growth: 'opsctl_leak_growth_bytes_per_second',
  heap: 'opsctl_heap_used_bytes',
  rss: 'opsctl_process_resident_memory_bytes',
  limit: 'opsctl_memory_limit_bytes',
  delay: 'opsctl_event_loop_delay_p99_seconds',
} as const;

/**
 * Every instance whose series match `selector` (a PromQL label selector such as
 * `{app="shop"}`, or '' for all), worst first. NO_INSTANCES when none does.
 */
export async function fetchFleet(api: PrometheusApi, selector: string): Promise<FleetInstance[]> {
  const names = Object.keys(METRICS) as (keyof typeof METRICS)[];
  const results = await Promise.all(names.map((name) => api.query(`${METRICS[name]}${selector}`)));
  const by = Object.fromEntries(names.map((name, i) => [name, groupByTarget(results[i] ?? [])])) as Record<
    keyof typeof METRICS,
    Map<string, PrometheusSample[]>
  >;
  const instances = [...by.info].map(([key, [info]]) => {
    const samples = (name: keyof typeof METRICS) => by[name].get(key) ?? [];
    const labels = info?.labels ?? {};
    const worst = worstVerdict(samples('verdict'));
    return {
      job: labels['job'] ?? '',
      instance: labels['instance'] ?? '',
      targetLabels: withoutName(samples('up')[0]?.labels ?? { job: labels['job'] ?? '', instance: labels['instance'] ?? '' }),
      app: infoLabel(labels, 'app'),
      version: infoLabel(labels, 'version') || null,
      host: infoLabel(labels, 'host'),
      pid: numberOrNull(Number(infoLabel(labels, 'pid'))),
      startTime: infoLabel(labels, 'start_time'),
      verdict: worst === null ? null : (VERDICT_NAMES[worst.value] ?? null),
      verdictValue: worst?.value ?? null,
      series: worst?.labels['series'] ?? null,
      growthBytesPerSecond: largest(samples('growth')),
      heapUsedBytes: largest(samples('heap')),
      residentBytes: largest(samples('rss')),
      memoryLimitBytes: largest(samples('limit')),
      eventLoopDelayP99Seconds: largest(samples('delay')),
    } satisfies FleetInstance;
  });
  if (instances.length === 0) {
    throw new CliError(
      'NO_INSTANCES',
      selector === ''
        ? `Prometheus at ${api.url.host} holds no opsctl endpoint (no ${METRICS.info} series)`
        : `no opsctl endpoint in Prometheus at ${api.url.host} matches ${selector}`,
      {
        hint: "check that Prometheus scrapes the endpoints with a metrics token (its Targets page; deploy/prometheus/prometheus.yml in the opsctl repository), and the selector's labels",
      },
    );
  }
  return instances.sort(worstFirst);
}

/** Verdict descending, then growth descending; no verdict or no trend last; then by instance. */
export function worstFirst(a: FleetInstance, b: FleetInstance): number {
  return descending(a.verdictValue, b.verdictValue) || descending(a.growthBytesPerSecond, b.growthBytesPerSecond) || a.instance.localeCompare(b.instance);
}

function descending(a: number | null, b: number | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return b - a;
}

/** A target is its job and instance: Prometheus' own identity of what it scrapes. */
function groupByTarget(samples: readonly PrometheusSample[]): Map<string, PrometheusSample[]> {
  const groups = new Map<string, PrometheusSample[]>();
  for (const sample of samples) {
    const key = JSON.stringify([sample.labels['job'] ?? '', sample.labels['instance'] ?? '']);
    groups.set(key, [...(groups.get(key) ?? []), sample]);
  }
  return groups;
}

function worstVerdict(samples: readonly PrometheusSample[]): PrometheusSample | null {
  // Only the four values an endpoint exports: a target that exports 1e308 must not rank
  // itself first (--heapdump-worst sends the operator's token to the first).
  const known = samples.filter((s) => Object.hasOwn(VERDICT_NAMES, s.value));
  return known.reduce<PrometheusSample | null>((worst, s) => (worst === null || s.value > worst.value ? s : worst), null);
}

function largest(samples: readonly PrometheusSample[]): number | null {
  return numberOrNull(Math.max(...samples.map((s) => s.value).filter((v) => !Number.isNaN(v))));
}

function numberOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/**
 * A label of opsctl_instance_info. Where a target label has its name (a scrape config
 * adding `app`), Prometheus keeps the endpoint's own as `exported_<name>`.
 */
function infoLabel(labels: Readonly<Record<string, string>>, name: string): string | null {
  return labels[`exported_${name}`] ?? labels[name] ?? null;
}

function withoutName(labels: Readonly<Record<string, string>>): Record<string, string> {
  const { __name__: _name, ...rest } = labels;
  return rest;
}
