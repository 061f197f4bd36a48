// The one vocabulary for values typed on the command line, as commander argument
// parsers: durations as 10s, 5m, 1500ms or 1m30s (and 500us for sampling intervals),
// sizes as 64KB or 1.5MB in the decimal units ui/format.ts prints (KiB, MiB for
// powers of two). A bare number is refused where a unit is needed: "--timeout 10" and
// "--eval-timeout 500" once meant seconds and milliseconds, and a guess would be wrong
// for one of them. A bad value is a usage error naming the flag (commander's message).
import { InvalidArgumentError, Option } from 'commander';
import { formatBytes, formatDurationMs } from './ui/format.js';

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { us: 0.001, µs: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_PART = /(\d+(?:\.\d+)?)\s*(us|µs|ms|s|m|h)/gy;

/** "1500ms", "10s", "1m30s", "1m 30s" → milliseconds; null when it is not a duration with units. */
export function parseDurationMs(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  DURATION_PART.lastIndex = 0;
  let total = 0;
  let match: RegExpExecArray | null;
  while ((match = DURATION_PART.exec(trimmed)) !== null) {
    total += Number(match[1]) * (DURATION_UNITS_MS[match[2] as string] as number);
    if (DURATION_PART.lastIndex === trimmed.length) return total;
    while (trimmed[DURATION_PART.lastIndex] === ' ') DURATION_PART.lastIndex++;
  }
  return null;
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** "65536", "64KB", "1.5 MB", "2MiB" → bytes; null when it is not a size. */
export function parseSizeBytes(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = SIZE_UNITS[match?.[2]?.toLowerCase() ?? ''];
  return match === null || unit === undefined ? null : Math.round(Number(match[1]) * unit);
}

export interface Range {
  min: number;
  max?: number;
}

/** A bound as a user would type it and --help says it: "24h", not "1d" (no flag takes days). */
function typedDuration(ms: number): string {
  return ms >= 86_400_000 && ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : formatDurationMs(ms);
}

/** A parser for a duration flag, in milliseconds within `range`. */
export function durationFlag(range: Range = { min: 1 }): (value: string) => number {
  return (value) => {
    const ms = parseDurationMs(value);
    if (ms === null) {
      const bare = /^\d+(\.\d+)?$/.test(value.trim());
      throw new InvalidArgumentError(
        bare ? `give it a unit: ${value.trim()}s, ${value.trim()}ms or ${value.trim()}m.` : 'give a duration such as 10s, 1500ms, 5m or 1m30s.',
      );
    }
    if (ms < range.min || (range.max !== undefined && ms > range.max)) {
      throw new InvalidArgumentError(
        `give a duration from ${typedDuration(range.min)} to ${range.max === undefined ? 'any length' : typedDuration(range.max)}.`,
      );
    }
    return ms;
  };
}

/** A parser for a size flag, in bytes, at least `min`. */
export function sizeFlag(min = 0): (value: string) => number {
  return (value) => {
    const bytes = parseSizeBytes(value);
    if (bytes === null) throw new InvalidArgumentError('give a size such as 65536, 64KB or 1.5MB (KB, MB, GB; KiB, MiB, GiB for powers of two).');
    if (bytes < min) throw new InvalidArgumentError(`give at least ${formatBytes(min)}.`);
    return bytes;
  };
}

/** A parser for a count: a whole number from 1. */
export function countFlag(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('give a whole number greater than 0.');
  return n;
}

/** A parser for a count where 0 turns the thing off: a whole number from 0. */
export function countOrZeroFlag(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) throw new InvalidArgumentError('give a whole number, 0 or more.');
  return n;
}

export const MINUTE_MS = 60_000;

/** `-o, --out <path>`: where a command writes its file; `namedAs` is the name a directory gets. */
export function outOption(namedAs: string): Option {
  return new Option('-o, --out <path>', `file, or directory (created when it ends in /), named ${namedAs} (default: the current directory)`);
}

/** `-f, --force`: replace what is there, or whatever else the command would refuse. */
export function forceOption(description = 'replace an existing file'): Option {
  return new Option('-f, --force', description).default(false);
}
