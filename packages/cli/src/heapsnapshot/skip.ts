// Readers for the values the scan does not use: any JSON value byte by byte, whatever its
// shape (trace_tree, title…; it can also capture the value's bytes, which is how the
// small `snapshot` header is read), arrays of numbers at the speed of a memory search, and
// arrays of numbers counted but not read.
import { malformed, type HeapSnapshotError } from './errors.js';
import { type ScanSimd, SIMD_BLOCK_BYTES, SIMD_SLICE_BYTES, scanSimd } from './scan-simd.js';

// Local, not imported: see numbers.ts.
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const COMMA = 0x2c;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const COLON = 0x3a;
const LBRACKET = 0x5b;
const BACKSLASH = 0x5c;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;

const START = 0;
const CONTAINER = 1;
const STRING = 2;
const SCALAR = 3;

/**
 * Skips one JSON value. It checks that brackets match and strings close, and rejects
 * bytes JSON never holds outside strings, but not the finer grammar.
 */
export class ValueSkipper {
  done = false;
  readonly #key: string;
  readonly #maxCapture: number;
  readonly #captured: Buffer[] = [];
  #capturedBytes = 0;
  #state = START;
  #escape = false;
  /** The closing bracket each open container expects. */
  readonly #stack: number[] = [];

  /** `key` names the value in errors; up to `maxCapture` bytes of it are kept (0: none). */
  constructor(key: string, maxCapture = 0) {
    this.#key = key;
    this.#maxCapture = maxCapture;
  }

  /** The value's text, when capturing. */
  get text(): string {
    return Buffer.concat(this.#captured).toString('utf8');
  }

  /** Reads from `start` until the value ends or the chunk does; `offset` is the chunk's position in the text. */
  feed(buf: Uint8Array, start: number, offset: number): number {
    const n = buf.length;
    const stack = this.#stack;
    let state = this.#state;
    let escaping = this.#escape;
    let i = start;
    for (; i < n; i++) {
      const c = buf[i] as number;
      if (state === STRING) {
        if (escaping) escaping = false;
        else if (c === BACKSLASH) escaping = true;
        else if (c === QUOTE) {
          state = CONTAINER;
          if (stack.length === 0) {
            i++;
            this.done = true;
            break;
          }
        }
        continue;
      }
      if (state === SCALAR) {
        if (isScalarChar(c)) continue;
        this.done = true; // the byte after a top-level scalar belongs to the object around it
        break;
      }
      if (c === QUOTE) state = STRING;
      else if (c === LBRACE) {
        stack.push(RBRACE);
        state = CONTAINER;
      } else if (c === LBRACKET) {
        stack.push(RBRACKET);
        state = CONTAINER;
      } else if (c === RBRACE || c === RBRACKET) {
        if (stack.pop() !== c) throw this.#malformed(`brackets do not match in "${this.#key}"`, offset + i);
        if (stack.length === 0) {
          i++;
          this.done = true;
          break;
        }
      } else if (isSpace(c)) {
        // whitespace between tokens: nothing to track
      } else if (state === START && isScalarChar(c)) {
        state = SCALAR;
      } else if (state === START || !(c === COMMA || c === COLON || isScalarChar(c))) {
        throw this.#malformed(`"${this.#key}" is not valid JSON`, offset + i);
      }
    }
    this.#state = state;
    this.#escape = escaping;
    if (this.#maxCapture > 0) this.#capture(buf, start, i, offset);
    return i;
  }

  #malformed(what: string, at: number): HeapSnapshotError {
    return malformed(what, at);
  }

  #capture(buf: Uint8Array, start: number, end: number, offset: number): void {
    this.#capturedBytes += end - start;
    if (this.#capturedBytes > this.#maxCapture) throw this.#malformed(`"${this.#key}" is implausibly large`, offset + end);
    this.#captured.push(Buffer.from(buf.subarray(start, end)));
  }
}

function isSpace(c: number): boolean {
  return c === SPACE || c === LF || c === CR || c === TAB;
}

/** Bytes of numbers, true, false and null. */
function isScalarChar(c: number): boolean {
  return (c >= DIGIT_0 && c <= DIGIT_9) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x45;
}

/**
 * Passes over an array of numbers without reading it: `edges` when a report uses none
 * (about 60% of a snapshot's bytes), `locations` and the allocation-tracking arrays. Its
 * end is found in a memchr-speed search for the closing bracket: V8 writes these arrays
 * as digits, commas and whitespace only. Their numbers are not checked.
 */
export class FlatArraySkipper {
  done = false;

  feed(buf: Uint8Array, start: number): number {
    const end = buf.indexOf(RBRACKET, start);
    if (end === -1) return buf.length;
    this.done = true;
    return end + 1;
  }
}

/**
 * Checks an array of numbers without reading them: `edges`, as `opsctl heapdump` checks a
 * download (verify-stream.ts). Every byte must be a digit, a comma or whitespace, no
 * number may be missing (a comma first, last, or after another), and the numbers must be
 * as many as `count`: a hole of zeros or garbage is found, and so are bytes lost or sent
 * twice when that changes how many numbers there are; past `count` numbers it stops. Not
 * found: a number changed into another, two run together by whitespace, or a block lost
 * and another sent twice with as many commas; a reader that uses the edges checks those.
 *
 * Sixteen bytes at a time in WebAssembly SIMD (scan-simd.wat): a block of digits,
 * commas and single line feeds (all V8 writes there) with no number missing is counted
 * there; any other block, and the closing bracket, is read here byte by byte, which is
 * where every error is worded. The 66 MB of edges of a 112 MB snapshot, in 64 KiB
 * chunks: 47 ms, against 317 ms four bytes at a time in JavaScript (Node 24; 46 against
 * 237 ms on Node 20; docs/benchmarks.md, issue 22 rows). Input built so that every block
 * stops it runs at about a third of the old speed: still linear.
 */
export class FlatArrayCounter {
  done = false;
  /** Commas seen so far. */
  commas = 0;
  readonly #key: string;
  readonly #count: number;
  #anyDigit = false;
  /** The last byte that was not whitespace was a comma, or there was none yet: a number must come next. */
  #afterComma = true;
  readonly #simd = scanSimd();
  readonly #memory = this.#simd === null ? null : new Uint8Array(this.#simd.memory.buffer, 0, SIMD_SLICE_BYTES);

  constructor(key: string, count: number) {
    this.#key = key;
    this.#count = count;
  }

  /** Numbers begun so far. */
  get numbers(): number {
    return this.#anyDigit ? this.commas + 1 : 0;
  }

  feed(buf: Uint8Array, start: number, offset: number): number {
    const n = buf.length;
    let i = start;
    // Whole blocks go into the module's memory, a slice at a time and each byte once; in a
    // slice, the module counts until a block it does not take, which is read here byte by
    // byte, and then carries on after it.
    while (this.#memory !== null && n - i >= SIMD_BLOCK_BYTES) {
      const length = Math.min(n - i, SIMD_SLICE_BYTES) & -SIMD_BLOCK_BYTES;
      this.#memory.set(buf.subarray(i, i + length));
      for (let at = 0; at < length; ) {
        const stop = this.#countFrom(at, length);
        const end = Math.min(stop + SIMD_BLOCK_BYTES, length);
        for (let j = stop; j < end; j++) if (this.#byte(buf[i + j] as number, offset + i + j)) return i + j + 1;
        at = end;
      }
      i += length;
    }
    for (; i < n; i++) if (this.#byte(buf[i] as number, offset + i)) return i + 1;
    return n;
  }

  /** The module's count over memory[from, to), with this counter's state in and out; where it stopped. */
  #countFrom(from: number, to: number): number {
    const simd = this.#simd as ScanSimd;
    // It counts from 0 each call, up to what is left below the header's count: a slice
    // holds far fewer commas than its 32-bit count could wrap at, whatever the total.
    simd.commas.value = 0;
    simd.afterComma.value = this.#afterComma ? 1 : 0;
    simd.anyDigit.value = this.#anyDigit ? 1 : 0;
    const stop = simd.countNumbers(from, to, Math.min(this.#count - this.commas, 0x7fff_ffff));
    this.commas += simd.commas.value;
    this.#afterComma = simd.afterComma.value === 1;
    this.#anyDigit = simd.anyDigit.value === 1;
    return stop;
  }

  /** One byte; true at the closing bracket. */
  #byte(c: number, at: number): boolean {
    if (c >= DIGIT_0 && c <= DIGIT_9) {
      this.#anyDigit = true;
      this.#afterComma = false;
    } else if (c === COMMA) {
      if (this.#afterComma) throw this.#malformed(`a number is missing in "${this.#key}"`, at);
      if (this.commas + 1 >= this.#count) throw this.#malformed(`"${this.#key}" holds more numbers than the header's ${this.#count}`, at);
      this.commas++;
      this.#afterComma = true;
    } else if (c === RBRACKET) {
      if (this.#afterComma && this.#anyDigit) throw this.#malformed(`a number is missing in "${this.#key}"`, at);
      const numbers = this.numbers;
      if (numbers !== this.#count)
        throw this.#malformed(`"${this.#key}" holds ${numbers} number${numbers === 1 ? '' : 's'} but the header says ${this.#count}`, at);
      this.done = true;
      return true;
    } else if (c !== SPACE && c !== LF && c !== CR && c !== TAB) throw this.#malformed(`"${this.#key}" holds a byte that is not part of a number`, at);
    return false;
  }

  #malformed(what: string, at: number): HeapSnapshotError {
    return malformed(what, at);
  }
}
