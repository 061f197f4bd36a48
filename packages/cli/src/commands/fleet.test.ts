// opsctl fleet against what is not a well-behaved Prometheus, played by servers of our
// own: a web page, a proxy that wants a token, a Prometheus whose labels carry terminal
// escapes or would move the endpoint token elsewhere, an endless answer. The real
// Prometheus, and the happy path, are in test/prometheus.test.ts.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../test-support/index.js';
import { checkEndpointTemplate, endpointUrl } from '../fleet/endpoint-template.js';
import { worstFirst, type FleetInstance } from '../fleet/instances.js';

const EVIL = '\u001b[2J\u001b]0;pwned\u0007\u001b]52;c;cHduZWQ=\u0007\u009b31m\u202e';
const ANY_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const work = mkdtempSync(join(tmpdir(), 'opsctl-fleet-'));
let server: Server | null = null;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  server = null;
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function serve(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createServer(answer);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** A Prometheus-shaped answer: each query's metric gets one series of a single instance with these labels. */
function vectors(labels: Record<string, string>): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const query = new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '';
    const name = query.replace(/\{.*$/s, '');
    const values: Record<string, string> = { opsctl_leak_verdict: '2', opsctl_leak_growth_bytes_per_second: '1048576', opsctl_instance_info: '1', up: '1' };
    const result = [
      {
        metric: { __name__: name, job: 'opsctl', ...labels, ...(name === 'opsctl_leak_verdict' ? { series: `heap${EVIL}` } : {}) },
        value: [1_700_000_000, values[name] ?? '1000'],
      },
    ];
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
  };
}

describe('opsctl fleet and what is not Prometheus', () => {
  it("says a web page is not Prometheus' query API: exit 1", async () => {
    const url = await serve((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>Grafana</html>'));
    const run = await runCli(['fleet', '--prometheus', url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^error: 127\.0\.0\.1:\d+ answered 200 with something that is not Prometheus' query API\nhint: give --prometheus the address of Prometheus itself/,
    );
    expect(run.stdout).toBe('');
  });

  it('sends OPSCTL_PROMETHEUS_TOKEN, or the token in --prometheus-token-file, and a refusal exits 3', async () => {
    const seen: (string | undefined)[] = [];
    const url = await serve((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(401, { 'www-authenticate': 'Bearer' }).end('unauthorized');
    });
    const fromEnv = await runCli(['fleet', '--prometheus', url], { env: { OPSCTL_PROMETHEUS_TOKEN: 'from-env' } });
    expect(fromEnv.code).toBe(3);
    expect(fromEnv.stderr).toMatch(
      /^error: Prometheus at 127\.0\.0\.1:\d+ refused the query with 401\nhint: give the token it wants in OPSCTL_PROMETHEUS_TOKEN/,
    );
    const file = join(work, 'prometheus-token');
    writeFileSync(file, 'from-file\n', { mode: 0o600 });
    expect((await runCli(['fleet', '--prometheus', url, '--prometheus-token-file', file], { env: { OPSCTL_PROMETHEUS_TOKEN: 'from-env' } })).code).toBe(3);
    expect(new Set(seen)).toEqual(new Set(['Bearer from-env', 'Bearer from-file']));
  });

  it("refuses to send Prometheus' token over plain http to another machine", async () => {
    const run = await runCli(['fleet', '--prometheus', 'http://prometheus.invalid:9090'], { env: { OPSCTL_PROMETHEUS_TOKEN: 'secret' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: refusing to send a token over plain http to prometheus\.invalid:9090/);
  });

  it('refuses a selector without braces before asking anything', async () => {
    const run = await runCli(['fleet', '--prometheus', 'http://127.0.0.1:1', '--selector', 'app="shop"']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: --selector app="shop" is not a label selector in braces/);
  });

  it('prints no terminal escape a malicious Prometheus puts in its labels, in the table or in JSON', async () => {
    const url = await serve(vectors({ instance: `127.0.0.1:9${EVIL}`, app: `shop${EVIL}`, host: `h${EVIL}`, pid: `1${EVIL}` }));
    for (const args of [[], ['--json']]) {
      const run = await runCli(['fleet', '--prometheus', url, ...args], { tty: true });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout.replace(/\u001b\[[0-9;]*m/g, '')).not.toMatch(ANY_CONTROL);
      expect(run.stdout).toContain('127.0.0.1:9');
      expect(run.stdout).not.toContain('pwned\u0007');
    }
  });

  it('never sends the endpoint token where a label from Prometheus would lead it', async () => {
    const url = await serve(vectors({ instance: 'evil.example/steal?x=' }));
    const run = await runCli(['fleet', '--prometheus', url, '--heapdump-worst', '--endpoint', 'http://{instance}', '--out', work], {
      env: { OPSCTL_TOKEN: 'opsctl_secret' },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: Prometheus gave instance="evil\.example\/steal\?x=", which cannot go into a URL/);
  });

  it('sends the endpoint token nowhere off a terminal without --yes, and says where it would have gone', async () => {
    const seen: string[] = [];
    const endpoint = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    try {
      const instance = `127.0.0.1:${(endpoint.address() as { port: number }).port}`;
      const url = await serve(vectors({ instance }));
      const run = await runCli(['fleet', '--prometheus', url, '--heapdump-worst', '--endpoint', 'http://{instance}', '--out', work], {
        env: { OPSCTL_TOKEN: 'opsctl_secret' },
      });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(
        `error: --heapdump-worst sends your token to http://${instance}/ (instance ${instance}, as Prometheus reports it); nothing was sent`,
      );
      expect(run.stderr).toMatch(/^hint: check the URL, then pass --yes/m);
      expect(seen).toEqual([]);
    } finally {
      endpoint.closeAllConnections();
      endpoint.close();
    }
  });

  it('ranks no instance by a verdict value the endpoint never exports', async () => {
    const url = await serve((req, res) => {
      const name = (new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '').replace(/\{.*$/s, '');
      const series = (instance: string, verdict: string) => ({
        metric: { __name__: name, job: 'opsctl', instance, series: 'heap' },
        value: [1_700_000_000, name === 'opsctl_leak_verdict' ? verdict : '1'],
      });
      const result = [series('10.0.0.1:9500', '1e308'), series('10.0.0.2:9500', '2')];
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
    });
    const run = await runCli(['fleet', '--prometheus', url, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const { instances } = JSON.parse(run.stdout) as { instances: FleetInstance[] };
    expect(instances.map((i) => [i.instance, i.verdict])).toEqual([
      ['10.0.0.2:9500', 'suspected'],
      ['10.0.0.1:9500', null],
    ]);
  });

  it('gives up on an answer that trickles in for longer than --timeout: exit 4', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const drip = setInterval(() => res.write(' '), 200);
      res.once('close', () => clearInterval(drip));
    });
    const run = await runCli(['--timeout', '1s', 'fleet', '--prometheus', url]);
    expect(run.code, run.stderr).toBe(4);
    expect(run.stderr).toMatch(/^error: Prometheus at 127\.0\.0\.1:\d+ did not answer within 1s/m);
  });

  it("stops reading an answer larger than any fleet's", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"status":"success","data":{"resultType":"vector","result":["');
      const chunk = 'x'.repeat(1024 * 1024);
      let sent = 0;
      const more = () => {
        while (sent++ < 34) if (!res.write(chunk)) return void res.once('drain', more);
        res.end('"]}}');
      };
      more();
    });
    const run = await runCli(['fleet', '--prometheus', url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: Prometheus' answer is larger than 32 MiB/);
  });
});

describe("the fleet's order", () => {
  const instance = (name: string, verdictValue: number | null, growthBytesPerSecond: number | null) =>
    ({ instance: name, verdictValue, growthBytesPerSecond }) as FleetInstance;

  it('is by verdict, then growth, worst first; no verdict and no trend last', () => {
    const sorted = [
      instance('off', null, null),
      instance('ok', 0, 10),
      instance('unknown', -1, null),
      instance('growing-fast', 1, 5_000),
      instance('suspected-slow', 2, 100),
      instance('growing-no-trend', 1, null),
      instance('suspected-fast', 2, 2_000_000),
      instance('growing-slow', 1, 10),
    ].sort(worstFirst);
    expect(sorted.map((i) => i.instance)).toEqual([
      'suspected-fast',
      'suspected-slow',
      'growing-fast',
      'growing-slow',
      'growing-no-trend',
      'ok',
      'unknown',
      'off',
    ]);
  });
});

describe('--endpoint templates', () => {
  it("fill in the target's labels", () => {
    expect(endpointUrl('https://{instance}', { instance: '10.0.0.7:9500' }).href).toBe('https://10.0.0.7:9500/');
    expect(endpointUrl('http://127.0.0.1:8001/api/v1/namespaces/{namespace}/pods/{pod}:9500/proxy', { namespace: 'shop', pod: 'shop-7d9f' }).href).toBe(
      'http://127.0.0.1:8001/api/v1/namespaces/shop/pods/shop-7d9f:9500/proxy',
    );
    expect(endpointUrl('https://{instance}', { instance: '[::1]:9500' }).host).toBe('[::1]:9500');
  });

  it('refuse values that would change more than a host, a port or a name', () => {
    for (const value of ['evil.example/x', 'a@evil.example', 'x?y', 'x#y', '..', 'a b', 'x\\y']) {
      expect(() => endpointUrl('https://{instance}', { instance: value }), value).toThrow(expect.objectContaining({ code: 'BAD_RESPONSE' }));
    }
  });

  it('must be http(s) URLs naming a label', () => {
    expect(() => checkEndpointTemplate('https://{instance}')).not.toThrow();
    for (const template of ['https://shop-1:9500', 'ftp://{instance}', '{instance}']) {
      expect(() => checkEndpointTemplate(template), template).toThrow(expect.objectContaining({ code: 'USAGE' }));
    }
  });
});
