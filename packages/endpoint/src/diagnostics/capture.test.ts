import { describe, expect, it } from 'vitest';
import { resolveCapture, type CaptureOptions } from './capture.js';

function problemsOf(input: unknown): string[] {
  const problems: string[] = [];
  resolveCapture(input as CaptureOptions, problems);
  return problems;
}

describe('resolveCapture', () => {
  it('fills the cooldown, count and disk budget from their defaults', () => {
    const problems: string[] = [];
    expect(resolveCapture({ dir: '/var/snapshots', rules: { onLeakSuspected: true } }, problems)).toEqual({
      dir: '/var/snapshots',
      rules: { heapAboveBytes: null, onLeakSuspected: true, nearHeapLimitRatio: null },
      cooldownMs: 600_000,
      maxCount: 3,
      maxDiskBytes: 2 * 1024 ** 3,
    });
    expect(problems).toEqual([]);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({
      dir: '',
      rules: { heapAboveBytes: -1, nearHeapLimitRatio: 1.5, onOom: true },
      cooldownMs: 1.5,
      maxCount: 0,
      maxDiskBytes: 'lots',
    });
    expect(problems.join('\n')).toMatch(/capture\.dir/);
    expect(problems.join('\n')).toMatch(/capture\.rules\.onOom` is not a known rule/);
    expect(problems.join('\n')).toMatch(/heapAboveBytes` must be a positive/);
    expect(problems.join('\n')).toMatch(/nearHeapLimitRatio` must be a number between 0 and 1/);
    expect(problems.join('\n')).toMatch(/cooldownMs/);
    expect(problems.join('\n')).toMatch(/maxCount/);
    expect(problems.join('\n')).toMatch(/maxDiskBytes/);
    expect(problems).toHaveLength(7);
  });

  it('refuses a configuration without a rule', () => {
    expect(problemsOf({ dir: '/x', rules: {} })).toEqual([expect.stringMatching(/sets no rule/)]);
  });
});
