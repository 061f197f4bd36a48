// The shipped Prometheus files and the endpoint's metrics, checked by Prometheus' own
// promtool: the alert rules load and pass their unit tests
// (deploy/prometheus/opsctl-alerts.test.yml), the scrape config parses, and
// `promtool check metrics` accepts real scrapes of an endpoint in every state it can be
// in: leak detection off, leak detection on without enough data, its main thread
// blocked, after refusals, mounted in the application's server.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, startApp, type RunningApp } from './support/processes.js';
import { deployDir, missingPrometheusReason } from './support/prometheus.js';

const targetApp = new URL('./fixtures/target-app.mjs', import.meta.url).pathname;
const missing = missingPrometheusReason('promtool');
if (missing !== null) {
  if (process.env['CI']) throw new Error(`promtool tests cannot run in CI: ${missing}`);
  console.warn(`skipping promtool tests: ${missing}`);
}

function promtool(args: string[], input?: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd: deployDir, encoding: 'utf8', ...(input === undefined ? {} : { input }) });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe.skipIf(missing !== null)('promtool', () => {
  it('loads the alert rules, and their unit tests pass', () => {
    const check = promtool(['check', 'rules', 'opsctl-alerts.yml']);
    expect(check.status, check.output).toBe(0);
    expect(check.output).toMatch(/SUCCESS: 3 rules found/);
    const test = promtool(['test', 'rules', 'opsctl-alerts.test.yml']);
    expect(test.status, test.output).toBe(0);
    expect(test.output).toMatch(/SUCCESS/);
  });

  it('parses the scrape config', () => {
    // --syntax-only: the token and CA files it names exist on a Prometheus server, not here.
    const check = promtool(['check', 'config', '--syntax-only', 'prometheus.yml']);
    expect(check.status, check.output).toBe(0);
  });

  describe('check metrics on real scrapes', () => {
    let scraper: { token: string; line: string };
    const apps: RunningApp[] = [];
    beforeAll(async () => {
      scraper = await mintToken('prometheus', 'metrics');
    });
    afterAll(() => Promise.all(apps.map((app) => app.stop())));

    async function start(env: Record<string, string>): Promise<RunningApp> {
      const app = await startApp(targetApp, { OPSCTL_TOKENS: scraper.line, ...env });
      apps.push(app);
      return app;
    }

    async function scrape(app: RunningApp): Promise<string> {
      const res = await fetch(`${app.ops}/metrics`, { headers: { authorization: `Bearer ${scraper.token}` } });
      expect(res.status).toBe(200);
      return res.text();
    }

    function expectValid(text: string, state: string): void {
      const check = promtool(['check', 'metrics'], text);
      expect(check.output, state).toBe('');
      expect(check.status, state).toBe(0);
    }

    it('accepts a scrape with leak detection off', async () => {
      const text = await scrape(await start({ LEAKS: 'off' }));
      expect(text).not.toMatch(/^opsctl_leak_verdict/m);
      expectValid(text, 'leaks off');
    });

    it('accepts scrapes with too little data for a verdict, during a block of the main thread, and after refusals', async () => {
      const app = await start({});
      const young = await scrape(app);
      expect(young).toMatch(/^opsctl_leak_verdict\{series="heap"\} (-1|0)$/m);
      expect(young).toMatch(/^opsctl_leak_growth_bytes_per_second\{series="heap"\} NaN$/m);
      expectValid(young, 'young');

      const blocking = fetch(`${app.app}/block?ms=4000`).then((res) => res.text());
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const blocked = await scrape(app);
      expect(blocked).toMatch(/^opsctl_main_thread_blocked_for_seconds [1-9]/m);
      expectValid(blocked, 'blocked');
      await blocking;

      const anonymous = await fetch(`${app.ops}/info`);
      await anonymous.arrayBuffer();
      const wrong = await fetch(`${app.ops}/info`, { headers: { authorization: 'Bearer opsctl_00000000000000000000000000000000000000000000ab' } });
      await wrong.arrayBuffer();
      const refused = await scrape(app);
      expect(refused).toMatch(/^opsctl_refusals_total\{code="AUTH_REQUIRED"\} [1-9]/m);
      expectValid(refused, 'after refusals');
    });

    it("accepts a scrape of an endpoint mounted in the application's server", async () => {
      const text = await scrape(await start({ MOUNT: '1' }));
      expect(text).not.toMatch(/^opsctl_main_thread_/m);
      expectValid(text, 'mounted');
    });
  });
});
