import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { scanSimd } from './scan-simd.js';

describe('scan-simd', () => {
  it('is what scan-simd.wat compiles to (scripts/build-wasm.mjs --check)', () => {
    // Throws, with the script's message, when scan-simd.wasm.ts is out of date.
    execFileSync(process.execPath, [fileURLToPath(new URL('../../../../scripts/build-wasm.mjs', import.meta.url)), '--check'], { stdio: 'pipe' });
  });

  it('gives each reader an instance of its own, with its own memory', () => {
    const [a, b] = [scanSimd(), scanSimd()];
    expect(a).not.toBeNull();
    expect(a?.memory).not.toBe(b?.memory);
    expect(a?.memory.buffer.byteLength).toBe(64 * 1024);
  });
});
