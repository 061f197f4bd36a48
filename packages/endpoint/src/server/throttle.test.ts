import { describe, expect, it } from 'vitest';
import { AuthThrottle } from './throttle.js';

const settings = { allowed: 3, windowMs: 10_000, blockMs: 1_000 };

describe('AuthThrottle', () => {
  it('blocks an address after the allowed failures, for blockMs', () => {
    const throttle = new AuthThrottle(settings);
    expect(throttle.fail('a', 0)).toBe(0);
    expect(throttle.fail('a', 1)).toBe(0);
    expect(throttle.fail('a', 2)).toBe(1_000);
    expect(throttle.check('a', 500).retryAfterMs).toBe(502);
    expect(throttle.check('a', 1_002).retryAfterMs).toBe(0);
  });

  it('does not block other addresses', () => {
    const throttle = new AuthThrottle(settings);
    for (let i = 0; i < 3; i++) throttle.fail('a', i);
    expect(throttle.check('b', 3).retryAfterMs).toBe(0);
  });

  it('forgives failures older than the window', () => {
    const throttle = new AuthThrottle(settings);
    throttle.fail('a', 0);
    throttle.fail('a', 1);
    expect(throttle.fail('a', 20_000)).toBe(0);
  });

  it('doubles the block on each repeat', () => {
    const throttle = new AuthThrottle(settings);
    for (let i = 0; i < 3; i++) throttle.fail('a', i);
    let now = 2_000;
    for (let i = 0; i < 2; i++) throttle.fail('a', now + i);
    expect(throttle.fail('a', now + 2)).toBe(2_000);
    now = 5_000;
    for (let i = 0; i < 2; i++) throttle.fail('a', now + i);
    expect(throttle.fail('a', now + 2)).toBe(4_000);
  });

  it('counts refusals within a block so audits can be sampled', () => {
    const throttle = new AuthThrottle(settings);
    for (let i = 0; i < 3; i++) throttle.fail('a', i);
    expect(throttle.check('a', 10).refusedInBlock).toBe(1);
    expect(throttle.check('a', 11).refusedInBlock).toBe(2);
  });

  it('forgets an address that then authenticates', () => {
    const throttle = new AuthThrottle(settings);
    throttle.fail('a', 0);
    throttle.fail('a', 1);
    throttle.succeed('a', 2);
    expect(throttle.fail('a', 2)).toBe(0);
    expect(throttle.trackedAddresses).toBe(1);
  });

  it('keeps a block when a caller from that address authenticates', () => {
    const throttle = new AuthThrottle(settings);
    for (let i = 0; i < 3; i++) throttle.fail('a', i);
    throttle.succeed('a', 10);
    expect(throttle.check('a', 11).retryAfterMs).toBeGreaterThan(0);
  });

  it('tracks a bounded number of addresses, dropping the least recently seen', () => {
    const throttle = new AuthThrottle({ ...settings, maxTracked: 100 });
    for (let i = 0; i < 10_000; i++) throttle.fail(`10.0.${i >> 8}.${i & 255}`, i);
    expect(throttle.trackedAddresses).toBe(100);
  });
});
