import { describe, expect, it } from 'vitest';
import { PauseBudget } from './pause-budget.js';

describe('PauseBudget', () => {
  it('starts full: share × window of pause time', () => {
    const budget = new PauseBudget(0.005, 120_000, 0);
    expect(budget.capacityMs).toBeCloseTo(600);
    expect(budget.creditMs(0)).toBeCloseTo(600);
    expect(budget.waitMs(500, 0)).toBe(0);
  });

  it('pays each pause from its credit, and says how long until the next fits', () => {
    const budget = new PauseBudget(0.005, 120_000, 0);
    budget.spend(500, 1_000);
    // 600 + 1 s × 0.5% (full already) − 500 = 100 ms left; 300 more need 60 s.
    expect(budget.creditMs(1_000)).toBeCloseTo(100);
    expect(budget.waitMs(400, 1_000)).toBeCloseTo(60_000);
    expect(budget.waitMs(400, 61_000)).toBeCloseTo(0);
  });

  it('keeps what a short pause leaves unspent, where a per-interval share would lose it', () => {
    const budget = new PauseBudget(0.005, 120_000, 0);
    for (let t = 10_000; t <= 100_000; t += 10_000) budget.spend(30, t);
    // Ten 30 ms pauses, one per 10 s: each interval accrues 50 ms, the bucket stays full.
    expect(budget.creditMs(100_000)).toBeCloseTo(570);
  });

  it('cannot bank more than its window, and a pause longer than the window can never fit', () => {
    const budget = new PauseBudget(0.005, 120_000, 0);
    budget.spend(600, 0);
    expect(budget.creditMs(10 * 3_600_000)).toBeCloseTo(600);
    expect(budget.waitMs(601, 0)).toBe(Number.POSITIVE_INFINITY);
  });

  it('carries a pause longer than the credit as a debt that wall time pays back', () => {
    const budget = new PauseBudget(0.01, 10_000, 0);
    budget.spend(300, 0);
    expect(budget.creditMs(0)).toBeCloseTo(-200);
    expect(budget.waitMs(50, 0)).toBeCloseTo(25_000);
  });

  it('refuses a share outside (0, 1)', () => {
    expect(() => new PauseBudget(0, 1_000, 0)).toThrow(RangeError);
    expect(() => new PauseBudget(1, 1_000, 0)).toThrow(RangeError);
  });
});
