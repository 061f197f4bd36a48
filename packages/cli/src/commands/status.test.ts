import { describe, expect, it } from 'vitest';
import { describeOffers } from './status.js';

describe('describeOffers', () => {
  it('lists the commands the endpoint serves, each once, without its route names', () => {
    const offers = describeOffers([
      'info',
      'memory',
      'heapdump',
      'leaks',
      'leaks-stream',
      'blocks',
      'blocks-stream',
      'profile-cpu',
      'action-run',
      'actions',
      'metrics',
    ]);
    expect(offers).toBe('heapdump, leaks, profile cpu, blocks, actions, run, Prometheus metrics');
    expect(offers).not.toMatch(/-stream|profile-cpu|action-run|\binfo\b|\bmemory\b/);
  });

  it('shows a capability this CLI does not know yet as it came', () => {
    expect(describeOffers(['info', 'leaks', 'traces'])).toBe('leaks, traces');
  });
});
