/// <reference path="./webassembly.d.ts" />
// The WebAssembly SIMD loops of the download's check (scan-simd.wat), for FlatArrayCounter
// (skip.ts) and StringArrayReader (strings.ts): an instance per reader, with its own
// memory and state. Each reader copies its input into the memory a slice at a time and
// reads byte by byte, itself, every block a loop stops at.
import { SCAN_SIMD_WASM } from './scan-simd.wasm.js';

/** What an instance exports; the state lives in its globals between calls. */
export interface ScanSimd {
  memory: WebAssembly.Memory;
  /** Counts the commas of memory[from, to) block by block (into `commas`), fewer than `limit` of them; where it stopped. */
  countNumbers(from: number, to: number, limit: number): number;
  commas: WebAssembly.Global;
  afterComma: WebAssembly.Global;
  anyDigit: WebAssembly.Global;
  /** Passes over strings in memory[from, to) block by block; where it stopped. */
  passStrings(from: number, to: number): number;
  place: WebAssembly.Global;
  strings: WebAssembly.Global;
}

/** The memory's size: input is copied into it at most this many bytes at a time. */
export const SIMD_SLICE_BYTES = 64 * 1024;
/** The bytes a loop takes at a time; a block it stops at is read by the caller. */
export const SIMD_BLOCK_BYTES = 16;

/** Compiled once, on first use: well under a millisecond. */
let compiled: WebAssembly.Module | null = null;

/** A new instance; null where Node has no WebAssembly (--jitless): the readers then read every byte themselves. */
export function scanSimd(): ScanSimd | null {
  if (typeof WebAssembly === 'undefined') return null;
  compiled ??= new WebAssembly.Module(Buffer.from(SCAN_SIMD_WASM, 'base64'));
  return new WebAssembly.Instance(compiled).exports as unknown as ScanSimd;
}
