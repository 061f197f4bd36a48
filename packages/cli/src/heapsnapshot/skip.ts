// Readers for the values the scan does not use: any JSON value byte by byte, whatever its
// shape (trace_tree, title…; it can also capture the value's bytes, which is how the
// small `snapshot` header is read), arrays of numbers at the speed of a memory search, and
// arrays of numbers counted but not read.
import { malformed, type HeapSnapshotError } from './errors.js';

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

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Checks an array of numbers without reading them: `edges`, as `opsctl heapdump` checks a
 * download (verify-stream.ts). Every byte must be a digit, a comma or whitespace, no
 * number may be missing (a comma first, last, or after another), and the numbers must be
 * as many as `count`: a hole of zeros or garbage is found, and so are bytes lost or sent
 * twice when that changes how many numbers there are; past `count` numbers it stops. Not
 * found: a number changed into another, two run together by whitespace, or a block lost
 * and another sent twice with as many commas; a reader that uses the edges checks those.
 *
 * Four bytes at a time (SWAR): a word of digits, commas and line feeds (all V8 writes
 * there) counts its commas with a few integer operations; any other word, and any word
 * with something to report, goes byte by byte. Measured on a 107 MB snapshot's 62 MB of
 * edges (Node 24): about 1.5x the speed of reading them edge by edge.
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
    // Byte by byte up to a 4-byte boundary, then by word, then the last bytes.
    let i = start;
    const aligned = Math.min(n, i + ((4 - ((buf.byteOffset + i) & 3)) & 3));
    for (; i < aligned; i++) if (this.#byte(buf[i] as number, offset + i)) return i + 1;
    // The word tricks read byte k at bits 8k-8k+7: little-endian only; elsewhere, byte by byte.
    const wordCount = LITTLE_ENDIAN ? (n - i) >> 2 : 0;
    // A view must start on a 4-byte boundary even when empty: a short chunk may end before one.
    const words = wordCount === 0 ? null : new Uint32Array(buf.buffer, buf.byteOffset + i, wordCount);
    const limit = this.#count;
    for (let k = 0; k < wordCount; k++) {
      const x = (words as Uint32Array)[k] as number;
      // High bit per byte: a digit (0x30-0x39, for bytes below 0x80), a comma, a line feed.
      const digits = (0xb9b9b9b9 - x) & ~x & (x + 0x50505050) & 0x80808080;
      const c = x ^ 0x2c2c2c2c;
      const comma = ~(((c & 0x7f7f7f7f) + 0x7f7f7f7f) | c | 0x7f7f7f7f) & 0x80808080;
      const l = x ^ 0x0a0a0a0a;
      const lineFeed = ~(((l & 0x7f7f7f7f) + 0x7f7f7f7f) | l | 0x7f7f7f7f) & 0x80808080;
      const marks = digits | comma;
      const commas = this.commas + (Math.imul(comma >>> 7, 0x01010101) >>> 24);
      if (
        (x & 0x80808080) === 0 &&
        (marks | lineFeed) === (0x80808080 | 0) &&
        // No comma after another with only line feeds between (the next byte is 8 bits up),
        // nor a comma as the word's first mark when the last word's was one.
        (comma & ((comma << 8) | ((comma << 16) & (lineFeed << 8)) | ((comma << 24) & (lineFeed << 16) & (lineFeed << 8)))) === 0 &&
        !(this.#afterComma && (comma & marks & -marks) !== 0) &&
        commas < limit
      ) {
        this.commas = commas;
        if (digits !== 0) this.#anyDigit = true;
        // The word's last digit or comma decides what must come next (a word of line feeds changes nothing).
        if (marks !== 0) this.#afterComma = ((comma >>> (31 - Math.clz32(marks))) & 1) === 1;
        continue;
      }
      // Something to report, or a byte the fast path does not take: the exact path says what.
      const at = i + k * 4;
      for (let j = at; j < at + 4; j++) if (this.#byte(buf[j] as number, offset + j)) return j + 1;
    }
    for (i += wordCount * 4; i < n; i++) if (this.#byte(buf[i] as number, offset + i)) return i + 1;
    return n;
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
