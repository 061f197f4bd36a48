import { describe, expect, it } from 'vitest';
import { countFlag, countOrZeroFlag, durationFlag, parseDurationMs, parseSizeBytes, sizeFlag } from './flags.js';
import { formatBytes, formatDurationMs } from './ui/format.js';

describe('durations', () => {
  it('read as 1500ms, 10s, 5m, 1h, 1m30s and 500us', () => {
    expect(parseDurationMs('1500ms')).toBe(1500);
    expect(parseDurationMs('10s')).toBe(10_000);
    expect(parseDurationMs('5m')).toBe(300_000);
    expect(parseDurationMs('1h')).toBe(3_600_000);
    expect(parseDurationMs('1m30s')).toBe(90_000);
    expect(parseDurationMs('1m 30s')).toBe(90_000);
    expect(parseDurationMs('1.5s')).toBe(1500);
    expect(parseDurationMs('500us')).toBe(0.5);
  });

  it('are not bare numbers or words', () => {
    for (const text of ['10', '', 'soon', '10 seconds', '5mm', 's', '-3s', '1m30']) expect(parseDurationMs(text), text).toBeNull();
  });

  it('print as they are typed', () => {
    for (const text of ['1500ms', '10s', '5m', '1m 30s', '500us']) expect(formatDurationMs(parseDurationMs(text) as number)).toBe(text);
  });

  it('are refused out of range, naming the range', () => {
    const parse = durationFlag({ min: 1000, max: 300_000 });
    expect(parse('30s')).toBe(30_000);
    expect(() => parse('301s')).toThrow('give a duration from 1s to 5m.');
    expect(() => parse('10')).toThrow('give it a unit: 10s, 10ms or 10m.');
  });

  it('name a bound of a day or more in hours, as --help does: no flag takes days', () => {
    expect(() => durationFlag({ min: 1000, max: 24 * 3_600_000 })('0.5s')).toThrow('give a duration from 1s to 24h.');
  });
});

describe('sizes', () => {
  it('read as bytes, decimal units, or binary ones', () => {
    expect(parseSizeBytes('65536')).toBe(65_536);
    expect(parseSizeBytes('64KB')).toBe(64_000);
    expect(parseSizeBytes('1.5MB')).toBe(1_500_000);
    expect(parseSizeBytes('1.5 mb')).toBe(1_500_000);
    expect(parseSizeBytes('2MiB')).toBe(2 * 1024 * 1024);
    expect(parseSizeBytes('fast')).toBeNull();
    expect(parseSizeBytes('1.5XB')).toBeNull();
  });

  it('print in the units they are read in', () => {
    expect(formatBytes(parseSizeBytes('1.5MB') as number)).toBe('1.5 MB');
    expect(formatBytes(parseSizeBytes('64KB') as number)).toBe('64.0 KB');
    expect(formatBytes(999)).toBe('999 B');
    expect(() => sizeFlag(1)('0')).toThrow('give at least 1 B.');
  });
});

describe('counts', () => {
  it('are whole numbers from 1, or from 0 where 0 turns the thing off', () => {
    expect(countFlag('5')).toBe(5);
    expect(() => countFlag('0')).toThrow(/greater than 0/);
    expect(countOrZeroFlag('0')).toBe(0);
    expect(countOrZeroFlag('3')).toBe(3);
    for (const bad of ['', ' ', '-1', '1.5', 'five']) expect(() => countOrZeroFlag(bad), bad).toThrow(/0 or more/);
  });
});
