// The fleet view end to end: two applications of ours (one leaking 1 MB/s, one steady),
// a real Prometheus scraping their /metrics every second on loopback with a bearer-token
// file and evaluating the shipped alert rules, and the built `opsctl fleet` asking it
// which one to dig into. Slow by nature: the verdict never says `suspected` before its
// window spans 90 s after warm-up.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, mintToken, opsctl, startApp, type RunningApp } from './support/processes.js';
import { deployDir, missingPrometheusReason, startPrometheus, type PrometheusSeries, type RunningPrometheus } from './support/prometheus.js';

const leakApp = fileURLToPath(new URL('./fixtures/leak-app.mjs', import.meta.url));
const missing = missingPrometheusReason('prometheus');
if (missing !== null) {
  if (process.env['CI']) throw new Error(`Prometheus tests cannot run in CI: ${missing}`);
  console.warn(`skipping Prometheus tests: ${missing}`);
}

const SUSPECTED_WITHIN_MS = 280_000;
const work = mkdtempSync(join(tmpdir(), 'opsctl-e2e-fleet-'));
let scraper: { token: string; line: string };
let operator: { token: string; line: string };
let leaking: RunningApp;
let steady: RunningApp;
let prometheus: RunningPrometheus;
const address = (app: RunningApp) => new URL(app.ops).host;

beforeAll(async () => {
  if (missing !== null) return;
  [scraper, operator] = await Promise.all([mintToken('prometheus', 'metrics'), mintToken('sre', 'heap')]);
  const tokens = `${scraper.line};${operator.line}`;
  [leaking, steady] = await Promise.all([
    startApp(leakApp, { MODE: 'leak', OPSCTL_TOKENS: tokens }),
    startApp(leakApp, { MODE: 'steady', OPSCTL_TOKENS: tokens }),
  ]);
  prometheus = await startPrometheus({
    targets: [address(leaking), address(steady)],
    labels: { app: 'shop' },
    token: scraper.token,
    ruleFiles: [join(deployDir, 'opsctl-alerts.yml')],
  });
});
afterAll(async () => {
  await Promise.all([prometheus?.stop(), leaking?.stop(), steady?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

// No contexts: the operator's own config must not decide which token or CA is used.
const fleet = (args: string[], env: Record<string, string> = {}, timeoutMs?: number) =>
  opsctl(['fleet', '--prometheus', prometheus.url, ...args], {
    env: { OPSCTL_CONFIG_DIR: join(work, 'config'), ...env },
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
const valuesOf = (series: PrometheusSeries[], instance: string, labels: Record<string, string> = {}) =>
  series.filter((s) => s.metric['instance'] === instance && Object.entries(labels).every(([k, v]) => s.metric[k] === v)).map((s) => Number(s.value[1]));

describe.skipIf(missing !== null)('Prometheus and opsctl fleet', () => {
  it('scrapes both endpoints with the token from its credentials file', async () => {
    const deadline = Date.now() + 30_000;
    let up: PrometheusSeries[] = [];
    while (Date.now() < deadline) {
      up = await prometheus.query('up{job="opsctl"} == 1');
      if (up.length === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    expect(up.map((s) => s.metric['instance']).sort(), prometheus.log()).toEqual([address(leaking), address(steady)].sort());
    const info = await prometheus.query('opsctl_instance_info');
    // The target's `app` label wins; the endpoint's own is kept as exported_app.
    expect(info.map((s) => [s.metric['app'], s.metric['exported_app'], s.metric['pid']]).sort()).toEqual([
      ['shop', 'leak-app-leak', String(leaking.pid)],
      ['shop', 'leak-app-steady', String(steady.pid)],
    ]);
  });

  it('a metrics token reads /metrics and gets 403 on every other route; anonymous callers get 401', async () => {
    // Every route by its name, as /info lists them in `capabilities`.
    const routes: Record<string, [string, string]> = {
      health: ['GET', '/health'],
      info: ['GET', '/info'],
      memory: ['GET', '/memory'],
      heapdump: ['GET', '/heapdump'],
      leaks: ['GET', '/leaks'],
      'leaks-stream': ['GET', '/leaks/stream'],
      repl: ['GET', '/repl'],
      eval: ['POST', '/eval'],
      'profile-cpu': ['GET', '/profile/cpu'],
      'profile-heap': ['GET', '/profile/heap'],
      report: ['GET', '/report'],
      actions: ['GET', '/actions'],
      'action-run': ['POST', '/actions/flush'],
      snapshots: ['GET', '/snapshots'],
      'snapshot-get': ['GET', '/snapshots/abc'],
      'snapshot-delete': ['DELETE', '/snapshots/abc'],
      workers: ['GET', '/workers'],
      stack: ['GET', '/stack'],
      blocks: ['GET', '/blocks'],
      'blocks-stream': ['GET', '/blocks/stream'],
    };
    const call = async ([method, path]: [string, string], token?: string) => {
      const res = await fetch(`${steady.ops}${path}`, { method, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
      const body = (await res.json().catch(() => null)) as { error?: { code: string } } | null;
      return { status: res.status, code: body?.error?.code };
    };
    const info = (await (await fetch(`${steady.ops}/info`, { headers: { authorization: `Bearer ${operator.token}` } })).json()) as { capabilities: string[] };
    expect(info.capabilities.filter((name) => name !== 'metrics' && routes[name] === undefined)).toEqual([]);
    expect((await call(['GET', '/metrics'], scraper.token)).status).toBe(200);
    for (const [name, route] of Object.entries(routes)) expect(await call(route, scraper.token), name).toEqual({ status: 403, code: 'SCOPE_MISSING' });
    for (const [name, route] of Object.entries({ metrics: ['GET', '/metrics'] as [string, string], ...routes }))
      expect(await call(route), name).toEqual({ status: 401, code: 'AUTH_REQUIRED' });
  });

  it('says a selector Prometheus cannot parse is a usage error, and a selector matching nothing a failure', async () => {
    const bad = await fleet(['--selector', '{app=shop}']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: Prometheus cannot parse the query \w+\{app=shop\}: .*parse error/m);
    const none = await fleet(['--selector', '{app="nosuch"}']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error: no opsctl endpoint in Prometheus at 127\.0\.0\.1:\d+ matches \{app="nosuch"\}$/m);
    const gone = await opsctl(['fleet', '--prometheus', `http://127.0.0.1:${await freePort()}`]);
    expect(gone.code).toBe(4);
    expect(gone.stderr).toMatch(/^error: cannot reach Prometheus at 127\.0\.0\.1:\d+: the connection was refused$/m);
  });

  it(
    'sees the leaking app suspected through its query API, the steady one not, and the alert pending',
    async () => {
      const started = Date.now();
      let verdicts: PrometheusSeries[] = [];
      while (Date.now() - started < SUSPECTED_WITHIN_MS) {
        verdicts = await prometheus.query('opsctl_leak_verdict');
        if (valuesOf(verdicts, address(leaking)).includes(2)) break;
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      }
      console.log(
        `opsctl_leak_verdict from Prometheus after ${((Date.now() - started) / 1000).toFixed(0)} s:\n${JSON.stringify(verdicts.map(({ metric, value }) => ({ instance: metric['instance'], series: metric['series'], value: value[1] })))}`,
      );
      expect(valuesOf(verdicts, address(leaking), { series: 'heap' })).toEqual([2]);
      for (const value of valuesOf(verdicts, address(steady))) expect([-1, 0, 1]).toContain(value);
      expect(valuesOf(verdicts, address(steady))).toHaveLength(2);
      const growth = await prometheus.query(`opsctl_leak_growth_bytes_per_second{instance="${address(leaking)}", series="heap"}`);
      expect(Number(growth[0]?.value[1])).toBeGreaterThan(100_000);
      // The shipped rule sees it at its next evaluation; it fires after 5 minutes of it.
      let alerts: PrometheusSeries[] = [];
      for (let i = 0; i < 15 && alerts.length === 0; i++) {
        alerts = await prometheus.query('ALERTS{alertname="OpsctlLeakSuspected"}');
        if (alerts.length === 0) await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
      expect(alerts.map((a) => [a.metric['instance'], a.metric['alertstate']])).toEqual([[address(leaking), 'pending']]);
    },
    SUSPECTED_WITHIN_MS + 20_000,
  );

  it('opsctl fleet lists the leaking instance first, in JSON and in its table', async () => {
    const json = await fleet(['--selector', '{app="shop"}', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const { instances } = JSON.parse(json.stdout) as {
      instances: { instance: string; verdict: string; verdictValue: number; pid: number; app: string; growthBytesPerSecond: number }[];
    };
    expect(instances.map((i) => i.instance)).toEqual([address(leaking), address(steady)]);
    expect(instances[0]).toMatchObject({ verdict: 'suspected', verdictValue: 2, pid: leaking.pid, app: 'leak-app-leak' });
    expect(instances[0]?.growthBytesPerSecond).toBeGreaterThan(100_000);
    expect(instances[1]?.verdict).not.toBe('suspected');

    const table = await fleet([]);
    expect(table.code, table.stderr).toBe(0);
    const [header, first, second] = table.stdout.split('\n');
    expect(header).toMatch(/^INSTANCE\s+APP\s+PID\s+VERDICT\s+GROWTH\s+HEAP\s+RSS\s+LIMIT\s+LOOP P99$/);
    expect(first).toMatch(new RegExp(`^${address(leaking)}\\s+leak-app-leak\\s+${leaking.pid}\\s+suspected\\s+\\+[\\d.]+ [KM]B/s\\s`));
    expect(second).toMatch(new RegExp(`^${address(steady)}\\s+leak-app-steady\\s+${steady.pid}\\s`));
  });

  it('opsctl fleet --heapdump-worst writes a heap snapshot of the leaking instance', async () => {
    const out = join(work, 'dumps');
    const run = await fleet(
      ['--heapdump-worst', '--endpoint', 'http://{instance}', '--out', out, '--json', '--yes'],
      { OPSCTL_TOKEN: operator.token },
      170_000,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/warning/);
    const { heapdump } = JSON.parse(run.stdout) as { heapdump: { of: string; path: string; instance: string } };
    expect(heapdump.of).toBe(address(leaking));
    expect(heapdump.instance).toContain(`pid=${leaking.pid};`);
    const files = readdirSync(out);
    expect(files).toEqual([expect.stringMatching(new RegExp(`^leak-app-leak-.*-${leaking.pid}-\\d{8}T\\d{6}Z\\.heapsnapshot$`))]);
    expect(heapdump.path).toBe(join(out, files[0] ?? ''));
  }, 180_000);
});
