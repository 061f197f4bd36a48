import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startEndpoint, type TestEndpoint } from '../../test-support/index.js';

let ep: TestEndpoint;
beforeAll(async () => {
  ep = await startEndpoint({}, { scraper: ['metrics'], reader: ['read'] });
});
afterAll(() => ep.close());

const scrape = (headers: Record<string, string> = {}) => fetch(`${ep.url}/metrics`, { headers: { ...bearer(ep.tokens['scraper']), ...headers } });

describe('GET /metrics', () => {
  it('answers a metrics token, and a read token, and refuses the metrics token everything else', async () => {
    expect((await scrape()).status).toBe(200);
    expect((await fetch(`${ep.url}/metrics`, { headers: bearer(ep.tokens['reader']) })).status).toBe(200);
    for (const path of ['/info', '/memory', '/leaks', '/heapdump', '/stack']) {
      const res = await fetch(`${ep.url}${path}`, { headers: bearer(ep.tokens['scraper']) });
      expect(res.status, path).toBe(403);
      await res.arrayBuffer();
    }
    expect((await fetch(`${ep.url}/metrics`)).status).toBe(401);
  });

  it('exposes the process, the leak verdict, the main thread and the refusals in the Prometheus text format', async () => {
    await fetch(`${ep.url}/info`).then((res) => res.arrayBuffer()); // one refusal, counted
    const res = await scrape();
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    for (const family of [
      'opsctl_instance_info',
      'opsctl_process_resident_memory_bytes',
      'opsctl_heap_size_limit_bytes',
      'opsctl_memory_limit_bytes',
      'opsctl_leak_verdict',
      'opsctl_gc_pause_seconds_total',
      'opsctl_main_thread_lag_seconds',
      'opsctl_main_thread_blocks_total',
    ])
      expect(text, family).toMatch(new RegExp(`^# TYPE ${family} `, 'm'));
    expect(text).toMatch(/^opsctl_leak_verdict\{series="heap"\} (-1|0|1|2)$/m);
    expect(text).toMatch(/^opsctl_refusals_total\{code="AUTH_REQUIRED"\} [1-9]\d*$/m);
    expect(text).toMatch(new RegExp(`^opsctl_instance_info\\{app="[^"]+",version="[^"]*",host="[^"]+",pid="${process.pid}",`, 'm'));
  });

  it('answers OpenMetrics when the scraper asks for it', async () => {
    const res = await scrape({ accept: 'application/openmetrics-text; version=1.0.0' });
    expect(res.headers.get('content-type')).toMatch(/^application\/openmetrics-text; version=1\.0\.0/);
    const text = await res.text();
    expect(text).toMatch(/^# TYPE opsctl_gc_pause_seconds counter$/m);
    expect(text.endsWith('# EOF\n')).toBe(true);
  });
});
