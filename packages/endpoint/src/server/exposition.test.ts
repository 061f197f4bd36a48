import { describe, expect, it } from 'vitest';
import { openMetrics, prometheusText, wantsOpenMetrics, type MetricFamily } from './exposition.js';

const families: MetricFamily[] = [
  { name: 'opsctl_instance', type: 'info', help: 'Who.', samples: [{ labels: { app: 'shop "x"\\y\nz' }, value: 1 }] },
  { name: 'opsctl_heap_used_bytes', type: 'gauge', unit: 'bytes', help: 'Heap.', samples: [{ value: 42 }] },
  { name: 'opsctl_gc_pause_seconds', type: 'counter', unit: 'seconds', help: 'GC.', samples: [{ labels: { kind: 'major' }, value: 0.5 }] },
  { name: 'opsctl_leak_growth_bytes_per_second', type: 'gauge', help: 'Growth.', samples: [{ value: Number.NaN }] },
];

describe('metrics exposition', () => {
  it('writes the Prometheus text format: counters end in _total, info is a gauge, labels escaped', () => {
    expect(prometheusText(families)).toBe(
      [
        '# HELP opsctl_instance_info Who.',
        '# TYPE opsctl_instance_info gauge',
        'opsctl_instance_info{app="shop \\"x\\"\\\\y\\nz"} 1',
        '# HELP opsctl_heap_used_bytes Heap.',
        '# TYPE opsctl_heap_used_bytes gauge',
        'opsctl_heap_used_bytes 42',
        '# HELP opsctl_gc_pause_seconds_total GC.',
        '# TYPE opsctl_gc_pause_seconds_total counter',
        'opsctl_gc_pause_seconds_total{kind="major"} 0.5',
        '# HELP opsctl_leak_growth_bytes_per_second Growth.',
        '# TYPE opsctl_leak_growth_bytes_per_second gauge',
        'opsctl_leak_growth_bytes_per_second NaN',
        '',
      ].join('\n'),
    );
  });

  it('writes OpenMetrics: family names without _total, units, info type, and # EOF', () => {
    const text = openMetrics(families);
    expect(text).toContain(
      '# TYPE opsctl_gc_pause_seconds counter\n# UNIT opsctl_gc_pause_seconds seconds\n# HELP opsctl_gc_pause_seconds GC.\nopsctl_gc_pause_seconds_total{kind="major"} 0.5\n',
    );
    expect(text).toContain('# TYPE opsctl_instance info\n');
    expect(text.endsWith('# EOF\n')).toBe(true);
  });

  it('answers OpenMetrics only to a scraper that prefers it', () => {
    expect(wantsOpenMetrics(undefined)).toBe(false);
    expect(wantsOpenMetrics('text/plain')).toBe(false);
    // What Prometheus 2.x sends.
    expect(
      wantsOpenMetrics('application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'),
    ).toBe(true);
    expect(wantsOpenMetrics('text/plain;version=0.0.4,application/openmetrics-text;q=0.5')).toBe(false);
  });
});
