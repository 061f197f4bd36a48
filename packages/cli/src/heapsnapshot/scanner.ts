// A push parser for V8's .heapsnapshot JSON: bytes in, in chunks of any size, one pass,
// never the whole text as one string. This file walks the top-level object and hands
// each value to a reader: `nodes` rows go to columns (numbers.ts), `edges` are checked
// and, when the caller keeps them, stored in columns too (or passed over unread when it
// asks), of `strings` only the wanted ones are decoded (strings.ts), and everything else
// (locations, trace_*, samples…) is skipped (skip.ts).
//
// Validation is part of the scan: the text must end right after the top-level object,
// the arrays must hold node_count and edge_count rows, edge_count fields must add up to
// edge_count, edges must point at node rows, and node names at existing strings.
//
// Order: "snapshot" first, "nodes" before "edges" and "strings", as V8 and DevTools
// write them. The other keys may come anywhere after "snapshot".
import { HeapSnapshotError, malformed } from './errors.js';
import { readHeader, type SnapshotHeader } from './header.js';
import { EdgeArrayReader, NodeArrayReader, type EdgeColumns, type NodeColumns } from './numbers.js';
import { FlatArrayCounter, FlatArraySkipper, ValueSkipper } from './skip.js';
import { StringArrayReader } from './strings.js';

export type { EdgeColumns, NodeColumns } from './numbers.js';

export interface ScanHandlers {
  /** The header is read and checked: where to store the nodes, if anywhere. */
  header?(header: SnapshotHeader): NodeColumns | null;
  /** With NodeColumns.window: the columns hold `count` more rows, from slot 0, to be used before returning. */
  rows?(count: number): void;
  /**
   * The nodes are read: where to store the edges; null checks them and stores nothing,
   * 'count' checks only that they are as many numbers as the header says, 'skip' passes
   * over them unread.
   */
  edges?(header: SnapshotHeader): EdgeColumns | 'count' | 'skip' | null;
  /** Nodes and edges are read: which strings to decode, as a byte per string index (1 = decode). */
  stringsWanted?(header: SnapshotHeader): Uint8Array | null;
  /** A wanted string, decoded. */
  string?(index: number, value: string): void;
  /** A wanted string of one to nine digits, as its value instead (hash-table slots name their edges so, by the hundred thousand). */
  number?(index: number, value: number): void;
}

export interface SnapshotCounts {
  readonly header: SnapshotHeader;
  readonly nodeCount: number;
  readonly edgeCount: number;
  readonly stringCount: number;
  /** Length of the JSON text (after gunzip). */
  readonly bytes: number;
}

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACKET = 0x5b;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;

// The header is about 1 KiB; anything much bigger is not a V8 snapshot header.
const MAX_HEADER_BYTES = 1 << 20;
// Keys are short names; a long one means we are not reading a heap snapshot.
const MAX_KEY_BYTES = 256;
const FIRST_KEY = 'snapshot';
// Arrays of numbers no report reads: passed over by searching for their end.
const UNREAD_NUMBER_ARRAYS: ReadonlySet<string> = new Set(['locations', 'samples', 'trace_function_infos']);

// Where the scanner is in the top-level object.
const DOC_START = 0;
const KEY_START = 1;
const KEY = 2;
const COLON_NEXT = 3;
const ARRAY_START = 4;
const VALUE = 5; // a reader has the bytes
const AFTER_VALUE = 6;
const DOC_END = 7;

type Reader = NodeArrayReader | EdgeArrayReader | FlatArrayCounter | FlatArraySkipper | StringArrayReader | ValueSkipper;

export class SnapshotScanner {
  readonly #handlers: ScanHandlers;
  #state = DOC_START;
  /** Bytes consumed before the current chunk. */
  #offset = 0;
  #keyBytes: number[] = [];
  #keyEscape = false;
  #key = '';
  readonly #keysSeen = new Set<string>();
  #reader: Reader | null = null;
  #header: SnapshotHeader | null = null;
  #nodes: NodeArrayReader | null = null;
  #edges: EdgeArrayReader | FlatArrayCounter | FlatArraySkipper | null = null;
  #strings: StringArrayReader | null = null;

  constructor(handlers: ScanHandlers = {}) {
    this.#handlers = handlers;
  }

  write(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.#state === VALUE) {
        const reader = this.#reader as Reader;
        i = reader.feed(chunk, i, this.#offset);
        if (reader.done) this.#endValue(reader, this.#offset + i);
      } else if (this.#state === KEY) {
        i = this.#keyBytesFrom(chunk, i);
      } else {
        this.#structure(chunk[i] as number, this.#offset + i);
        i++;
      }
    }
    this.#offset += chunk.length;
  }

  /** The input has ended: returns what was read, or throws why it is not a complete snapshot. */
  end(): SnapshotCounts {
    const at = this.#offset;
    if (this.#state !== DOC_END) {
      if (at === 0) throw new HeapSnapshotError('HEAPSNAPSHOT_TRUNCATED', 'the file is empty', at);
      throw new HeapSnapshotError('HEAPSNAPSHOT_TRUNCATED', `the heap snapshot is truncated: it ends after ${at} bytes, ${this.#where()}`, at);
    }
    // The first key was "snapshot" (#keyBytesFrom insists), so the header is known.
    const header = this.#header as SnapshotHeader;
    if (this.#nodes === null) throw malformed('it has no "nodes" array', at);
    if (this.#edges === null) throw malformed('it has no "edges" array', at);
    if (this.#strings === null) throw malformed('it has no "strings" array', at);
    // Skipped edges were not counted: the nodes' edge counts, which add up to the header's,
    // stand in. Counted ones are as many numbers as the header's count needs (or threw).
    const edgeCount =
      this.#edges instanceof FlatArraySkipper
        ? header.edgeCount
        : this.#edges instanceof FlatArrayCounter
          ? this.#edges.numbers / header.edgeFields.length
          : this.#edges.rows;
    return { header, nodeCount: this.#nodes.rows, edgeCount, stringCount: this.#strings.count, bytes: at };
  }

  /** One byte outside keys and values: whitespace, '{', '"', ':', '[', ',' or '}'. */
  #structure(c: number, at: number): void {
    if (isSpace(c)) return;
    switch (this.#state) {
      case DOC_START:
        if (c !== LBRACE) throw new HeapSnapshotError('NOT_A_HEAPSNAPSHOT', 'the file is not a V8 heap snapshot: it does not start with a JSON object', at);
        this.#state = KEY_START;
        return;
      case KEY_START:
        if (c !== QUOTE) throw this.#keysSeen.size === 0 ? notASnapshot(at) : malformed('a key was expected in the top-level object', at);
        this.#keyBytes = [];
        this.#keyEscape = false;
        this.#state = KEY;
        return;
      case COLON_NEXT:
        if (c !== COLON) throw malformed(`":" was expected after "${this.#key}"`, at);
        this.#startValue(at);
        return;
      case ARRAY_START:
        if (c !== LBRACKET) throw malformed(`"${this.#key}" is not an array`, at);
        this.#state = VALUE;
        return;
      case AFTER_VALUE:
        if (c === COMMA) this.#state = KEY_START;
        else if (c === RBRACE) this.#state = DOC_END;
        else throw malformed(`"," or "}" was expected after "${this.#key}"`, at);
        return;
      default: // DOC_END
        throw malformed('there is data after the end of the snapshot', at);
    }
  }

  #keyBytesFrom(buf: Uint8Array, start: number): number {
    const keyBytes = this.#keyBytes;
    const first = this.#keysSeen.size === 0;
    for (let i = start; i < buf.length; i++) {
      const c = buf[i] as number;
      const at = this.#offset + i;
      if (c === QUOTE && !this.#keyEscape) {
        this.#key = decodeKey(keyBytes, at);
        if (first && this.#key !== FIRST_KEY) throw notASnapshot(at);
        if (this.#keysSeen.has(this.#key)) throw malformed(`the key "${this.#key}" appears twice`, at);
        this.#keysSeen.add(this.#key);
        this.#state = COLON_NEXT;
        return i + 1;
      }
      this.#keyEscape = !this.#keyEscape && c === BACKSLASH;
      keyBytes.push(c);
      // Fail fast on binary data, or on other JSON that happens to start with '{"'.
      if (first && (keyBytes.length > FIRST_KEY.length || FIRST_KEY.charCodeAt(keyBytes.length - 1) !== c)) throw notASnapshot(at);
      if (keyBytes.length > MAX_KEY_BYTES) throw malformed('a top-level key is too long', at);
    }
    return buf.length;
  }

  #startValue(at: number): void {
    const key = this.#key;
    if (key === FIRST_KEY) {
      this.#reader = new ValueSkipper('snapshot', MAX_HEADER_BYTES);
      this.#state = VALUE;
      return;
    }
    if (UNREAD_NUMBER_ARRAYS.has(key)) {
      this.#reader = new FlatArraySkipper();
      this.#state = ARRAY_START;
      return;
    }
    if (key !== 'nodes' && key !== 'edges' && key !== 'strings') {
      this.#reader = new ValueSkipper(key);
      this.#state = VALUE;
      return;
    }
    const header = this.#header as SnapshotHeader;
    if (key === 'nodes') {
      this.#reader = this.#nodes = new NodeArrayReader(header, this.#handlers.header?.(header) ?? null, this.#handlers.rows?.bind(this.#handlers));
    } else if (this.#nodes === null) {
      throw malformed(`"${key}" comes before "nodes"`, at);
    } else if (key === 'edges') {
      const columns = this.#handlers.edges?.(header) ?? null;
      this.#reader = this.#edges =
        columns === 'skip'
          ? new FlatArraySkipper()
          : columns === 'count'
            ? new FlatArrayCounter('edges', header.edgeCount * header.edgeFields.length)
            : new EdgeArrayReader(header, columns);
    } else {
      const onString = this.#handlers.string?.bind(this.#handlers) ?? (() => {});
      const onNumber = this.#handlers.number?.bind(this.#handlers) ?? null;
      this.#reader = this.#strings = new StringArrayReader(this.#handlers.stringsWanted?.(header) ?? null, onString, onNumber);
    }
    this.#state = ARRAY_START;
  }

  #endValue(reader: Reader, at: number): void {
    this.#reader = null;
    this.#state = AFTER_VALUE;
    if (reader instanceof ValueSkipper && this.#key === FIRST_KEY) {
      let value: unknown;
      try {
        value = JSON.parse(reader.text);
      } catch (error) {
        throw new HeapSnapshotError('HEAPSNAPSHOT_MALFORMED', 'the snapshot header is not valid JSON', at, { cause: error });
      }
      this.#header = readHeader(value, at);
    } else if (reader instanceof StringArrayReader) {
      const maxName = (this.#nodes as NodeArrayReader).maxNameIndex;
      if (maxName >= reader.count) throw malformed(`a node names string ${maxName} but there are ${reader.count} strings`, at);
    }
  }

  /** Where a truncated text ends, for the message. */
  #where(): string {
    const reader = this.#reader;
    if (this.#keysSeen.size === 0) return 'before the snapshot header';
    if (reader === null) return `after "${this.#key}"`;
    if (reader instanceof NodeArrayReader) return `inside the nodes array at row ${reader.rows} of ${(this.#header as SnapshotHeader).nodeCount}`;
    if (reader instanceof EdgeArrayReader) return `inside the edges array at row ${reader.rows} of ${(this.#header as SnapshotHeader).edgeCount}`;
    if (reader instanceof FlatArrayCounter) return `inside "${this.#key}" at number ${reader.commas + 1}`;
    if (reader instanceof FlatArraySkipper) return `inside "${this.#key}"`;
    if (reader instanceof StringArrayReader) return `inside the strings array at string ${reader.count}`;
    return this.#key === FIRST_KEY ? 'inside the snapshot header' : `inside "${this.#key}"`;
  }
}

function isSpace(c: number): boolean {
  return c === SPACE || c === LF || c === CR || c === TAB;
}

function decodeKey(bytes: number[], at: number): string {
  try {
    return JSON.parse(`"${Buffer.from(bytes).toString('utf8')}"`) as string;
  } catch (error) {
    throw new HeapSnapshotError('HEAPSNAPSHOT_MALFORMED', `the heap snapshot is malformed: a top-level key is not a valid string (byte ${at})`, at, {
      cause: error,
    });
  }
}

function notASnapshot(at: number): HeapSnapshotError {
  return new HeapSnapshotError('NOT_A_HEAPSNAPSHOT', 'the file is not a V8 heap snapshot: it does not start with a "snapshot" header', at);
}
