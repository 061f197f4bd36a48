// Reader for the `strings` array: names of nodes and edges, and the text of string
// objects (V8 cuts those at 1024 characters). Every string is checked; only the wanted
// ones are decoded, which keeps memory bounded by what the caller needs.
import { malformed, type HeapSnapshotError } from './errors.js';
import { type ScanSimd, SIMD_BLOCK_BYTES, SIMD_SLICE_BYTES, scanSimd } from './scan-simd.js';

// Local, not imported: see numbers.ts.
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const COMMA = 0x2c;
const SLASH = 0x2f;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const BACKSLASH = 0x5c;
const RBRACKET = 0x5d;
const LOWER_U = 0x75;

// Where the reader is between strings.
const FIRST = 0; // after '[': '"' or ']'
const IN_STRING = 1;
const AFTER = 2; // after a string: ',' or ']'
const NEXT = 3; // after ',': '"'
// Escape progress inside a string: none, after '\', or 4..1 hex digits of \uXXXX to go.
const ESC_NONE = 0;
const ESC_BACKSLASH = 1;
const ESC_HEX_LAST = 2;
const ESC_HEX_FIRST = 5;
// Where the SIMD loop's last block ended (its `place`): in a string, after its closing quote, after the comma (or a line feed after it).
const PLACE_INSIDE = 1;
const PLACE_CLOSED = 2;
const PLACE_COMMA = 3;

export class StringArrayReader {
  done = false;
  /** Strings read so far. */
  count = 0;
  readonly #wanted: Uint8Array | null;
  readonly #onString: (index: number, value: string) => void;
  readonly #onNumber: ((index: number, value: number) => void) | null;
  #state = FIRST;
  #esc = ESC_NONE;
  #keep = false;
  #escaped = false;
  /** Bytes of a wanted string that began in an earlier chunk. */
  #pieces: Buffer[] = [];
  /** With no string wanted (the download's check), the SIMD loop that passes over them (scan-simd.wat). */
  readonly #simd: ScanSimd | null;
  readonly #memory: Uint8Array | null;

  /**
   * `wanted` has a 1 at the index of each string to decode and pass to `onString`; those
   * made of one to MAX_NUMBER_DIGITS digits go to `onNumber` as numbers instead, if given.
   */
  constructor(wanted: Uint8Array | null, onString: (index: number, value: string) => void, onNumber: ((index: number, value: number) => void) | null = null) {
    this.#wanted = wanted;
    this.#simd = wanted === null ? scanSimd() : null;
    this.#memory = this.#simd === null ? null : new Uint8Array(this.#simd.memory.buffer, 0, SIMD_SLICE_BYTES);
    this.#onString = onString;
    this.#onNumber = onNumber;
  }

  /** Reads from `start` until ']' or the chunk's end; `offset` is the chunk's position in the text. */
  feed(buf: Uint8Array, start: number, offset: number): number {
    const n = buf.length;
    if (this.#simd === null) return this.#bytes(buf, start, n, offset);
    let i = start;
    // As FlatArrayCounter does (skip.ts): whole blocks into the module's memory a slice at
    // a time, and each block its loop stops at read here byte by byte.
    while (n - i >= SIMD_BLOCK_BYTES) {
      const length = Math.min(n - i, SIMD_SLICE_BYTES) & -SIMD_BLOCK_BYTES;
      (this.#memory as Uint8Array).set(buf.subarray(i, i + length));
      for (let at = 0; at < length; ) {
        const stop = this.#passFrom(at, length);
        const end = i + Math.min(stop + SIMD_BLOCK_BYTES, length);
        const next = this.#bytes(buf, i + stop, end, offset);
        if (this.done) return next;
        at = end - i;
      }
      i += length;
    }
    return this.#bytes(buf, i, n, offset);
  }

  /** The module's pass over memory[from, to), when the state it starts in is one it knows; where it stopped. */
  #passFrom(from: number, to: number): number {
    const simd = this.#simd as ScanSimd;
    const state = this.#state;
    // After '[' (the first string may follow whitespace), and inside an escape, bytes are read here.
    if (state === FIRST || (state === IN_STRING && this.#esc !== ESC_NONE)) return from;
    simd.place.value = state === IN_STRING ? PLACE_INSIDE : state === AFTER ? PLACE_CLOSED : PLACE_COMMA;
    simd.strings.value = 0;
    const stop = simd.passStrings(from, to);
    const place = simd.place.value;
    this.#state = place === PLACE_INSIDE ? IN_STRING : place === PLACE_CLOSED ? AFTER : NEXT;
    this.count += simd.strings.value >>> 0;
    return stop;
  }

  /** Reads buf[start, end) byte by byte, until ']' or `end`; `offset` is the chunk's position in the text. */
  #bytes(buf: Uint8Array, start: number, end: number, offset: number): number {
    let i = start;
    while (i < end) {
      if (this.#state === IN_STRING) {
        i = this.#stringBytes(buf, i, end, offset);
        continue;
      }
      const c = buf[i] as number;
      i++;
      if (isSpace(c)) continue;
      const state = this.#state;
      if (c === QUOTE && (state === FIRST || state === NEXT)) {
        const wanted = this.#wanted;
        this.#keep = wanted !== null && this.count < wanted.length && wanted[this.count] === 1;
        this.#escaped = false;
        this.#esc = ESC_NONE;
        this.#state = IN_STRING;
      } else if (c === COMMA && state === AFTER) {
        this.#state = NEXT;
      } else if (c === RBRACKET && (state === AFTER || state === FIRST)) {
        this.done = true;
        return i;
      } else {
        throw this.#malformed('the strings array holds something other than strings', offset + i - 1);
      }
    }
    return i;
  }

  /** Consumes string bytes up to and including the closing quote, or to the chunk's end. */
  #stringBytes(buf: Uint8Array, start: number, n: number, offset: number): number {
    let esc = this.#esc;
    let escaped = this.#escaped;
    let i = start;
    let closed = false;
    for (; i < n; i++) {
      const c = buf[i] as number;
      if (esc === ESC_NONE) {
        if (c === QUOTE) {
          closed = true;
          break;
        }
        if (c === BACKSLASH) {
          esc = ESC_BACKSLASH;
          escaped = true;
        } else if (c < SPACE) {
          throw this.#malformed('a string holds a raw control character', offset + i);
        }
      } else if (esc === ESC_BACKSLASH) {
        if (c === LOWER_U) esc = ESC_HEX_FIRST;
        else if (isEscapeChar(c)) esc = ESC_NONE;
        else throw this.#malformed('a string holds an invalid escape', offset + i);
      } else {
        if (!isHexDigit(c)) throw this.#malformed('a string holds an invalid \\u escape', offset + i);
        esc = esc === ESC_HEX_LAST ? ESC_NONE : esc - 1;
      }
    }
    this.#esc = esc;
    this.#escaped = escaped;
    if (this.#keep) {
      if (closed) this.#decode(buf, start, i);
      else this.#pieces.push(Buffer.from(buf.subarray(start, i))); // a copy: the chunk may be reused
    }
    if (!closed) return i;
    this.count++;
    this.#state = AFTER;
    return i + 1;
  }

  #malformed(what: string, at: number): HeapSnapshotError {
    return malformed(what, at);
  }

  #decode(buf: Uint8Array, start: number, end: number): void {
    // Hash-table slots name hundreds of thousands of edges with digits: those make no object.
    if (this.#onNumber !== null && !this.#escaped && this.#pieces.length === 0) {
      const value = digitsValue(buf, start, end);
      if (value !== -1) {
        this.#onNumber(this.count, value);
        return;
      }
    }
    const last = Buffer.from(buf.buffer, buf.byteOffset + start, end - start);
    const bytes = this.#pieces.length === 0 ? last : Buffer.concat([...this.#pieces, last]);
    this.#pieces = [];
    if (this.#onNumber !== null && !this.#escaped) {
      const value = digitsValue(bytes, 0, bytes.length);
      if (value !== -1) {
        this.#onNumber(this.count, value);
        return;
      }
    }
    // Raw bytes are joined before decoding, so neither an escape nor a UTF-8 sequence
    // split across chunks is decoded in halves. JSON.parse does the escapes, surrogate
    // pairs included; the scan above has already checked their syntax.
    const text = bytes.toString('utf8');
    this.#onString(this.count, this.#escaped ? (JSON.parse(`"${text}"`) as string) : text);
  }
}

// Nine digits always fit a uint32.
const MAX_NUMBER_DIGITS = 9;

/** The value of bytes[start, end): one to MAX_NUMBER_DIGITS ASCII digits written as String(value) would (no leading zero), or -1. */
function digitsValue(bytes: Uint8Array, start: number, end: number): number {
  const length = end - start;
  if (length === 0 || length > MAX_NUMBER_DIGITS || (bytes[start] === DIGIT_0 && length > 1)) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = bytes[i] as number;
    if (c < DIGIT_0 || c > DIGIT_9) return -1;
    value = value * 10 + (c - DIGIT_0);
  }
  return value;
}

function isSpace(c: number): boolean {
  return c === SPACE || c === LF || c === CR || c === TAB;
}

/** What may follow a backslash: " \ / b f n r t (u is handled apart). */
function isEscapeChar(c: number): boolean {
  return c === QUOTE || c === BACKSLASH || c === SLASH || c === 0x62 || c === 0x66 || c === 0x6e || c === 0x72 || c === 0x74;
}

function isHexDigit(c: number): boolean {
  return (c >= DIGIT_0 && c <= DIGIT_9) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
