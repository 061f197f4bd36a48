import { describe, expect, it } from 'vitest';
import { FlatArrayCounter } from './skip.js';

/** `text` (the bytes after '[') fed in `pieces`, each copied to `shift` bytes into a buffer of its own. */
function count(text: string, expected: number, pieces: number[], shift: number): { numbers: number; done: boolean } {
  const bytes = Buffer.from(text, 'latin1');
  const counter = new FlatArrayCounter('edges', expected);
  let at = 0;
  for (let p = 0; at < bytes.length && !counter.done; p++) {
    const size = pieces[p % pieces.length] as number;
    const piece = new Uint8Array(new ArrayBuffer(size + shift + 4), shift, Math.min(size, bytes.length - at));
    piece.set(bytes.subarray(at, at + piece.length));
    const end = counter.feed(piece, 0, at);
    at += end;
  }
  return { numbers: counter.numbers, done: counter.done };
}

// V8's own layout: a row per line, the line feed before the comma.
const rows = Array.from({ length: 500 }, (_, i) => `${i % 7},${i * 13},${i * 1009}`).join('\n,');
const ROWS = `${rows}]`;

describe('FlatArrayCounter', () => {
  it('counts the same in pieces of any size, at any alignment', () => {
    for (const shift of [0, 1, 2, 3])
      for (const pieces of [[1], [2], [3], [5], [7, 1, 4, 2], [4096], [13, 64, 9]]) {
        expect(count(ROWS, 1500, pieces, shift)).toEqual({ numbers: 1500, done: true });
      }
    expect(count(']', 0, [1], 1)).toEqual({ numbers: 0, done: true });
  });

  it('refuses a number missing, a byte that is no part of a number, and a count other than the header says', () => {
    const refusal = (text: string, expected: number) => {
      try {
        for (const shift of [0, 3]) count(text, expected, [1, 4096], shift);
      } catch (error) {
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(refusal(',1,2,3]', 3)).toContain('a number is missing');
    expect(refusal('1,2,,3,4,5,6,7,8,9]', 9)).toContain('a number is missing');
    expect(refusal('1,2,3,4,5,6,7,8,]', 9)).toContain('a number is missing');
    expect(refusal(`1,2,3,4\u0000\u0000\u0000\u00005,6]`, 6)).toContain('not part of a number');
    expect(refusal(`${rows.replace('\n,1,13,', '\n,13,')}]`, 1500)).toContain('holds 1499 numbers but the header says 1500');
    expect(refusal(`${rows}\n,1,2]`, 1500)).toContain('more numbers than the header');
    expect(refusal('1]', 0)).toContain('holds 1 number but');
    // A number lost before V8's line feed ("a,b,c\n,d" losing c): the commas still add up.
    for (const shift of [0, 1, 2, 3]) {
      for (const [text, expected] of [
        ['7,8,\n,4,5,6\n]', 6],
        ['1,\n,2]', 3],
        ['\n,1,2,3]', 4],
        ['1,\n\n,2]', 3],
        ['1,2,3\n,\n,4,5]', 6],
      ] as const) {
        expect(() => count(text, expected, [4096], shift)).toThrow('a number is missing');
      }
    }
  });

  it('says the same in WebAssembly as byte by byte, of whole and damaged arrays past one slice', () => {
    /** What counting `text` comes to: the numbers, or the error with its byte. */
    const outcome = (text: string, expected: number, pieces: number[], shift: number) => {
      try {
        return count(text, expected, pieces, shift);
      } catch (error) {
        return (error as Error).message;
      }
    };
    // Rows as Node 20's V8 writes them (a line feed before each row's comma) and as Node 24's does (none), over 64 KiB.
    const big = Array.from({ length: 12_000 }, (_, i) => `${i % 7},${(i * 7919) % 100_003},${i * 28}`);
    const layouts = [`${big.join('\n,')}]`, `${big.join(',')}]`];
    const damage = ['', ',', ',,', '\n\n', '\n', ']', '\u0000', 'x', ' ', '\r', '-', '123', '\u00e9'];
    let random = 12345;
    const next = (n: number) => {
      random = (Math.imul(random, 1103515245) + 12345) >>> 0;
      return random % n;
    };
    for (const layout of layouts) {
      expect(outcome(layout, 36_000, [70_000], 1)).toEqual({ numbers: 36_000, done: true });
      const kinds = new Set<string>();
      for (let round = 0; round < 50; round++) {
        const at = next(layout.length);
        const cut = next(3);
        const text = layout.slice(0, at) + (damage[next(damage.length)] as string) + layout.slice(at + cut);
        const expected = 36_000 + next(3) - 1;
        const byByte = outcome(text, expected, [15], 0); // shorter than a block: all byte by byte
        kinds.add(typeof byByte === 'string' ? byByte.replace(/ \(byte \d+\)|\d+/g, '') : 'counted');
        for (const [pieces, shift] of [
          [[70_000], 0],
          [[65_536], 3],
          [[4096, 17, 100_000], 1],
        ] as const) {
          expect(outcome(text, expected, [...pieces], shift), `damage at ${at}`).toEqual(byByte);
        }
      }
      // The damage was found in more ways than one, and some of it was counted through.
      expect(kinds.size).toBeGreaterThan(3);
    }
  });

  it('counts past 2^32 numbers without wrapping', () => {
    const counter = new FlatArrayCounter('edges', 2 ** 32 + 100);
    counter.commas = 2 ** 32 - 8;
    counter.feed(Buffer.from('1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,'), 0, 0);
    expect(counter.commas).toBe(2 ** 32 + 8);
  });

  it('names the byte where a surplus comma is, on the fast path too', () => {
    const counter = new FlatArrayCounter('edges', 4);
    expect(() => counter.feed(Buffer.from('1,2,3,4,5,6,7,8'), 0, 100)).toThrow('(byte 107)');
  });
});
