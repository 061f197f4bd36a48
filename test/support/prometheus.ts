// A real Prometheus server (Debian's `prometheus` package) for end-to-end tests: on an
// ephemeral loopback port, its data in a temp directory, scraping opsctl endpoints with
// a bearer-token file, and the rule files it is given; and its query API.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../../packages/endpoint/test-support/index.js';
import { freePort } from './processes.js';

export const deployDir = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));

/** Why `program` (prometheus, promtool) cannot run here, or null when it can. */
export function missingPrometheusReason(program: 'prometheus' | 'promtool'): string | null {
  return spawnSync(program, ['--version']).error === undefined ? null : `${program} is not installed (Debian: apt-get install prometheus)`;
}

export interface PrometheusSeries {
  metric: Record<string, string>;
  value: [number, string];
}

export interface RunningPrometheus {
  url: string;
  /** GET /api/v1/query: the instant vector, as Prometheus answers it. */
  query(promql: string): Promise<PrometheusSeries[]>;
  log(): string;
  stop(): Promise<void>;
}

export interface PrometheusSetup {
  /** host:port of each endpoint to scrape at /metrics. */
  targets: string[];
  /** Labels added to every series of those targets. */
  labels: Record<string, string>;
  /** The `metrics` token Prometheus sends, kept in a mode-0600 file. */
  token: string;
  ruleFiles: string[];
}

/** Starts Prometheus scraping `targets` every second and evaluating the rules every second; resolves once it is ready. */
export async function startPrometheus(setup: PrometheusSetup): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-e2e-prometheus-'));
  const tokenFile = join(dir, 'opsctl-metrics-token');
  writeFileSync(tokenFile, setup.token, { mode: 0o600 });
  const config = join(dir, 'prometheus.yml');
  // JSON is YAML: no YAML writer needed.
  writeFileSync(
    config,
    JSON.stringify(
      {
        global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
        rule_files: setup.ruleFiles,
        scrape_configs: [
          {
            job_name: 'opsctl',
            authorization: { type: 'Bearer', credentials_file: tokenFile },
            static_configs: [{ targets: setup.targets, labels: setup.labels }],
          },
        ],
      },
      null,
      2,
    ),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    'prometheus',
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (log = (log + chunk).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${log}`);
      return (await fetch(`${url}/-/ready`).catch(() => null))?.status === 200;
    }, 30_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    async query(promql) {
      const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: promql })}`);
      const body = (await res.json()) as { status: string; data: { result: PrometheusSeries[] }; error?: string };
      if (body.status !== 'success') throw new Error(`query ${promql} failed: ${body.error}`);
      return body.data.result;
    },
    log: () => log,
    stop,
  };
}
