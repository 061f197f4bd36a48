// GET /metrics: the process's figures for Prometheus (scope `metrics`: numbers only), in
// its text format, or OpenMetrics when the scraper asks by Accept. The main thread's
// figures come in one cheap call; while it is blocked, the last ones it gave are served
// with the block (a scrape never hangs, and the series do not go stale). The refusals,
// by code, are counted where they happen, here.
import type { Host, MainMetrics } from '../host/host.js';
import { instanceIdentity } from '../instance.js';
import type { LeakLevel } from '../protocol/index.js';
import { OPENMETRICS_TEXT, openMetrics, PROMETHEUS_TEXT, prometheusText, wantsOpenMetrics, type MetricFamily } from '../server/exposition.js';
import type { RefusalCounter } from '../server/refusal-counter.js';
import { setCommonHeaders } from '../server/replies.js';
import type { Route } from '../server/route.js';
import type { ThreadWatch } from '../thread/watch.js';

/** `opsctl_leak_verdict`: -1 not enough data, 0 ok, 1 growing, 2 suspected. */
const VERDICT_VALUE: Readonly<Record<LeakLevel, number>> = { unknown: -1, ok: 0, growing: 1, suspected: 2 };
const SERIES_LABEL = { heapUsed: 'heap', external: 'external' } as const;

export function metricsRoute(host: Host, refusals: RefusalCounter, watch: ThreadWatch | null): Route {
  let last: MainMetrics | null = null;
  return {
    name: 'metrics',
    method: 'GET',
    path: '/metrics',
    scope: 'metrics',
    async handle(req, res, ctx) {
      try {
        last = await host.metrics();
      } catch (error) {
        // Blocked: the last figures, and the block below says why they are old.
        if ((error as NodeJS.ErrnoException).code !== 'MAIN_THREAD_BLOCKED' || last === null) throw error;
        ctx.auditDetail['stale'] = true;
      }
      const families = [...processFamilies(ctx.config.app, last), ...refusalFamilies(refusals), ...threadFamilies(watch)];
      const open = wantsOpenMetrics(req.headers.accept);
      const body = open ? openMetrics(families) : prometheusText(families);
      setCommonHeaders(res);
      res.writeHead(200, { 'content-type': open ? OPENMETRICS_TEXT : PROMETHEUS_TEXT, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    },
  };
}

function processFamilies(app: { name: string; version: string | null }, m: MainMetrics): MetricFamily[] {
  const families: MetricFamily[] = [
    {
      name: 'opsctl_instance',
      type: 'info',
      help: 'The process the endpoint is in: app name and version, host, pid, start time, Node version.',
      samples: [
        {
          labels: {
            app: app.name,
            version: app.version ?? '',
            host: instanceIdentity.host,
            pid: String(instanceIdentity.pid),
            start_time: instanceIdentity.startTime,
            node: process.version,
          },
          value: 1,
        },
      ],
    },
    gauge('opsctl_process_resident_memory_bytes', 'bytes', 'Resident set size of the process.', m.residentBytes),
    gauge('opsctl_heap_used_bytes', 'bytes', 'V8 heap in use on the main thread now, garbage included.', m.heapUsedBytes),
    gauge('opsctl_heap_size_limit_bytes', 'bytes', "V8's heap limit on the main thread.", m.heapSizeLimitBytes),
    {
      name: 'opsctl_memory_limit_bytes',
      type: 'gauge',
      unit: 'bytes',
      help: "The memory limit the process lives under (cgroup, configured, or the machine's).",
      samples: [{ labels: { source: m.memoryLimit.source }, value: m.memoryLimit.limitBytes }],
    },
  ];
  if (m.afterGc !== null) {
    families.push(
      gauge('opsctl_heap_used_after_gc_bytes', 'bytes', "Heap in use after the newest major GC: the leak monitor's sample.", m.afterGc.heapUsedBytes),
    );
    families.push(
      gauge('opsctl_external_memory_after_gc_bytes', 'bytes', 'External memory (Buffers, ArrayBuffers) after the newest major GC.', m.afterGc.externalBytes),
    );
  }
  if (m.leak !== null) {
    const series = (['heapUsed', 'external'] as const).map((name) => [name, m.leak![name]] as const);
    families.push({
      name: 'opsctl_leak_verdict',
      type: 'gauge',
      help: 'The leak verdict per series: -1 not enough data, 0 ok, 1 growing, 2 suspected.',
      samples: series.map(([name, evidence]) => ({ labels: { series: SERIES_LABEL[name] }, value: VERDICT_VALUE[evidence.level] })),
    });
    families.push({
      name: 'opsctl_leak_growth_bytes_per_second',
      type: 'gauge',
      help: "The trend's growth per series, from the post-GC samples (NaN without enough of them).",
      samples: series.map(([name, evidence]) => ({ labels: { series: SERIES_LABEL[name] }, value: evidence.growthBytesPerSecond ?? Number.NaN })),
    });
  }
  if (m.eventLoopDelay !== null) {
    families.push(
      gauge('opsctl_event_loop_delay_p50_seconds', 'seconds', 'Median event-loop delay of the main thread over the last minute.', m.eventLoopDelay.p50Seconds),
    );
    families.push(
      gauge(
        'opsctl_event_loop_delay_p99_seconds',
        'seconds',
        "99th percentile of the main thread's event-loop delay over the last minute.",
        m.eventLoopDelay.p99Seconds,
      ),
    );
  }
  const kinds = Object.entries(m.gc);
  families.push(
    {
      name: 'opsctl_gc_collections',
      type: 'counter',
      help: 'Garbage collections on the main thread, by kind.',
      samples: kinds.map(([kind, gc]) => ({ labels: { kind }, value: gc.collections })),
    },
    {
      name: 'opsctl_gc_pause_seconds',
      type: 'counter',
      unit: 'seconds',
      help: 'Time the main thread spent in garbage collection, by kind.',
      samples: kinds.map(([kind, gc]) => ({ labels: { kind }, value: gc.pauseSeconds })),
    },
    counter('opsctl_heap_snapshots', undefined, 'Heap snapshots the endpoint wrote (downloads; captures count apart).', m.heapSnapshots.count),
    counter('opsctl_heap_snapshot_pause_seconds', 'seconds', 'Time the main thread was paused writing them.', m.heapSnapshots.pauseSeconds),
    {
      name: 'opsctl_profiles',
      type: 'counter',
      help: 'Profiles taken, by kind.',
      samples: [
        { labels: { kind: 'cpu' }, value: m.profiles.cpu },
        { labels: { kind: 'heap' }, value: m.profiles.heap },
      ],
    },
  );
  if (m.captures !== null) {
    const outcomes = Object.entries(m.captures);
    families.push({
      name: 'opsctl_captures',
      type: 'counter',
      help: 'Automatic capture attempts, by outcome.',
      samples: outcomes.map(([outcome, count]) => ({ labels: { outcome }, value: count })),
    });
  }
  return families;
}

function refusalFamilies(refusals: RefusalCounter): MetricFamily[] {
  const samples = [...refusals.counts()].map(([code, count]) => ({ labels: { code }, value: count }));
  return [{ name: 'opsctl_refusals', type: 'counter', help: 'Requests and connections the endpoint refused, by code.', samples }];
}

function threadFamilies(watch: ThreadWatch | null): MetricFamily[] {
  if (watch === null) return [];
  const current = watch.watchdog?.current() ?? null;
  const families: MetricFamily[] = [
    gauge(
      'opsctl_main_thread_lag_seconds',
      'seconds',
      "How long ago the main thread's event loop last turned (seen from the endpoint's thread).",
      watch.state.sinceLastBeatMs() / 1000,
    ),
    gauge(
      'opsctl_main_thread_blocked_for_seconds',
      'seconds',
      "How long the main thread's event loop has been blocked, past the watchdog's threshold; 0 when it is not.",
      (current?.blockedForMs ?? 0) / 1000,
    ),
  ];
  if (watch.watchdog !== null) {
    families.push(
      counter(
        'opsctl_main_thread_blocks',
        undefined,
        "Blocks of the main thread's event loop longer than the watchdog's threshold, once ended.",
        watch.watchdog.totals.blocks,
      ),
      counter('opsctl_main_thread_blocked_seconds', 'seconds', 'Their total duration.', watch.watchdog.totals.blockedSeconds),
    );
  }
  return families;
}

function gauge(name: string, unit: MetricFamily['unit'], help: string, value: number): MetricFamily {
  return { name, type: 'gauge', help, samples: [{ value }], ...(unit === undefined ? {} : { unit }) };
}

function counter(name: string, unit: MetricFamily['unit'], help: string, value: number): MetricFamily {
  return { name, type: 'counter', help, samples: [{ value }], ...(unit === undefined ? {} : { unit }) };
}
