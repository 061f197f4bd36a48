import { describe, expect, it } from 'vitest';
import { formatBytes } from './bytes.js';

describe('formatBytes', () => {
  it('prints decimal units, as the CLI does (docs/operations.md)', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(512_000)).toBe('512 KB');
    expect(formatBytes(37_200_000)).toBe('37.2 MB');
    expect(formatBytes(1_800_000_000)).toBe('1.8 GB');
    expect(formatBytes(24 * 1024 * 1024)).toBe('25.2 MB');
    expect(formatBytes(-4_000_000)).toBe('-4.0 MB');
  });
});
