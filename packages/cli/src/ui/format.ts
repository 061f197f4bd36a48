// Human formats for sizes, rates and durations, in the units the flags accept
// (flags.ts): decimal sizes (1 KB = 1000 bytes, as disks and networks count) and
// durations such as 1m 30s, so a value printed can be typed back.

const SIZE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < SIZE_UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(Math.abs(value) >= 100 ? 0 : 1)} ${SIZE_UNITS[unit]}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  // "5m", not "5m 0s": what --duration 5m reads like.
  const two = (big: number, bigUnit: string, small: number, smallUnit: string) => `${big}${bigUnit}${small === 0 ? '' : ` ${small}${smallUnit}`}`;
  if (s < 3600) return two(Math.floor(s / 60), 'm', s % 60, 's');
  if (s < 86400) return two(Math.floor(s / 3600), 'h', Math.floor((s % 3600) / 60), 'm');
  return two(Math.floor(s / 86400), 'd', Math.floor((s % 86400) / 3600), 'h');
}

/** Milliseconds with the precision they carry: 500us, 1500ms, 10s, 1m 30s. */
export function formatDurationMs(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)}us`;
  if (ms < 1000 || (ms < 60_000 && ms % 1000 !== 0)) return `${ms}ms`;
  return formatDuration(ms / 1000);
}

/** "1 sample", "2 samples", "1,500 samples": a count with its noun in the right number. */
export function formatCountOf(n: number, singular: string, plural = `${singular}s`): string {
  return `${formatCount(n)} ${n === 1 ? singular : plural}`;
}

/** 1234567 → "1,234,567", whatever the locale. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}
