import { describe, expect, it } from 'vitest';
import { StringArrayReader } from './strings.js';

/** Reads `text` (the bytes after '[') in `pieces`, each copied to `shift` bytes into a buffer of its own: the strings counted, or the error. */
function read(text: string, pieces: number[], shift: number): { count: number; done: boolean } | string {
  const bytes = Buffer.from(text, 'utf8');
  const reader = new StringArrayReader(null, () => {});
  try {
    let at = 0;
    for (let p = 0; at < bytes.length && !reader.done; p++) {
      const size = pieces[p % pieces.length] as number;
      const piece = new Uint8Array(new ArrayBuffer(size + shift), shift, Math.min(size, bytes.length - at));
      piece.set(bytes.subarray(at, at + piece.length));
      at += reader.feed(piece, 0, at);
    }
    return { count: reader.count, done: reader.done };
  } catch (error) {
    return (error as Error).message;
  }
}

// Strings as V8 writes them: short names, long ones, empty ones, escapes, non-ASCII.
const strings = Array.from({ length: 6000 }, (_, i) =>
  JSON.stringify(
    i % 11 === 0 ? '' : i % 7 === 0 ? `function f${i}() {\n  return "x\\y";\n}` : i % 5 === 0 ? `système ${i} ✓ ${'long '.repeat(i % 40)}` : `item ${i}`,
  ),
);
// Node 20's V8 puts a line feed after each comma, Node 24's does not.
const layouts = [`${strings.join(',\n')}]`, `${strings.join(',')}]`];

describe('StringArrayReader passing over strings (no string wanted)', () => {
  it("counts the same in SIMD as byte by byte, in pieces of any size, in both of V8's layouts", () => {
    for (const layout of layouts) {
      for (const shift of [0, 1, 5])
        for (const pieces of [[15], [16], [17, 4096], [65_536], [100_000], [33, 1, 70_000]]) {
          expect(read(layout, pieces, shift)).toEqual({ count: 6000, done: true });
        }
      expect(read(` \n${layout}`, [70_000], 0)).toEqual({ count: 6000, done: true });
    }
    expect(read(']', [16], 0)).toEqual({ count: 0, done: true });
  });

  it('finds the same damage in SIMD as byte by byte', () => {
    const damage = ['', '"', '\\', ',', ',,', ' ', '\n', '\n\n', ']', '\u0001', '\t', 'x', '"x"', '\\u00', '\\q', ',"', '",', '""'];
    let random = 4242;
    const next = (n: number) => {
      random = (Math.imul(random, 1103515245) + 12345) >>> 0;
      return random % n;
    };
    const kinds = new Set<string>();
    for (const layout of layouts) {
      for (let round = 0; round < 60; round++) {
        const at = next(layout.length);
        const text = layout.slice(0, at) + (damage[next(damage.length)] as string) + layout.slice(at + next(3));
        const byByte = read(text, [15], 0); // shorter than a block: all byte by byte
        kinds.add(typeof byByte === 'string' ? byByte.replace(/ \(byte \d+\)|\d+/g, '') : 'read');
        for (const [pieces, shift] of [
          [[70_000], 0],
          [[65_536], 3],
          [[4096, 17, 100_000], 1],
        ] as const) {
          expect(read(text, [...pieces], shift), `damage at ${at}`).toEqual(byByte);
        }
      }
    }
    // The damage was found in more ways than one, and some of it read through.
    expect(kinds.size).toBeGreaterThan(3);
  });
});
