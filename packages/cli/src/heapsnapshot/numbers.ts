// Readers for the flat `nodes` and `edges` integer arrays: about 90% of a snapshot's
// bytes, so this is the hot path. Digits are folded into a double as they arrive, with no
// string per number. Two loops per reader:
//   - whole rows at once while the chunk has FAST_ROW_BYTES left: a row's numbers go into
//     a small buffer, then are checked and stored field by field with no dispatch on the
//     field's position; anything unusual stops this loop at the row's start;
//   - byte at a time otherwise (a chunk's last bytes, a row split across chunks, and every
//     malformed input, which it words): a value is checked and stored when its ',' or
//     ']' arrives, so a number split across chunks simply carries on in the next one.
// Measured on a 232 MB snapshot (Node 20): the row loop reads nodes in about half the
// time of the byte loop alone. The readers repeat the number syntax on purpose: one
// shared loop calling out per row measured 1.7x slower.
import { malformed, type HeapSnapshotError } from './errors.js';
import type { SnapshotHeader } from './header.js';

/**
 * Where node fields go, indexed by node ordinal (row number); a column left out is not
 * stored. With `window`, the columns hold that many rows at a time instead, filled
 * again from index 0 each time the reader has handed them over (see NodeArrayReader).
 */
export interface NodeColumns {
  readonly type?: Uint8Array;
  readonly name?: Uint32Array;
  readonly id?: Uint32Array;
  readonly selfSize?: Float64Array;
  /** edge_count, for finding a node's edges when they are kept. */
  readonly edgeCount?: Uint32Array;
  readonly window?: number;
}

/** Where edge fields go, indexed by edge ordinal (row number). */
export interface EdgeColumns {
  readonly type: Uint8Array;
  /** name_or_index: an index into strings, or for element and hidden edges the index itself. */
  readonly name: Uint32Array;
  /** to_node as a node ordinal (V8 writes the position of the node's first field in the flat nodes array). */
  readonly toNode: Uint32Array;
}

// The loops touch nothing imported, not even on their error paths: with Node 20's V8,
// importing these constants and calling the imported error helper from the loop made
// the scan 1.7x slower. Hence local constants, and a #malformed method in each reader.
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const COMMA = 0x2c;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const RBRACKET = 0x5d;

// Where a reader is between bytes.
const FIRST = 0; // after '[': a digit or ']'
const IN_NUMBER = 1;
const SPACE_AFTER = 2; // whitespace after a number: ',' or ']'
const NEXT = 3; // after ',': a digit
// Stands for "no byte": the chunk has ended.
const NONE = -1;
// V8's ids and string indexes are 32-bit unsigned; sizes must stay exact in a double.
const MAX_UINT32 = 0xffff_ffff;
const MAX_EXACT = Number.MAX_SAFE_INTEGER;
// The row loop runs while this many bytes remain: far more than a row of V8's takes (7
// numbers, ~40 bytes), so it never reads past the chunk's end in a well-formed row.
const FAST_ROW_BYTES = 512;

export class NodeArrayReader {
  done = false;
  /** Complete rows read so far. */
  rows = 0;
  /** The largest string index a node names; checked against the strings once they are read. */
  maxNameIndex = -1;
  readonly #header: SnapshotHeader;
  readonly #columns: NodeColumns | null;
  #state = FIRST;
  #value = 0;
  #field = 0;
  #edgeCountSum = 0;
  /** Where the next row goes in the columns: its ordinal, less what earlier windows took. */
  #slot = 0;
  readonly #onRows: (count: number) => void;
  /** The row loop's numbers, before they are checked and stored. */
  readonly #row: Float64Array;

  /**
   * Checks every node; stores the ones the scan keeps when `columns` is given. With
   * columns.window, `onRows(count)` runs each time the columns hold that many rows, and
   * once for the rest: the rows are in slots 0 to count - 1, to be used before it returns.
   */
  constructor(header: SnapshotHeader, columns: NodeColumns | null, onRows: (count: number) => void = () => {}) {
    this.#header = header;
    this.#columns = columns;
    this.#onRows = onRows;
    this.#row = new Float64Array(header.nodeFields.length);
  }

  /** Reads from `start` until ']' or the chunk's end; `offset` is the chunk's position in the text. */
  feed(buf: Uint8Array, start: number, offset: number): number {
    const header = this.#header;
    const fieldCount = header.nodeFields.length;
    const { type: typeField, name: nameField, id: idField, selfSize: sizeField, edgeCount: edgesField } = header.nodeField;
    const typeCount = header.nodeTypes.length;
    const nodeCount = header.nodeCount;
    const columns = this.#columns;
    const types = columns?.type;
    const names = columns?.name;
    const ids = columns?.id;
    const sizes = columns?.selfSize;
    const edgeCounts = columns?.edgeCount;
    const windowRows = columns?.window ?? Infinity;
    const n = buf.length;
    let slot = this.#slot;
    let value = this.#value;
    let state = this.#state;
    let field = this.#field;
    let ordinal = this.rows;
    let maxName = this.maxNameIndex;
    let edgeSum = this.#edgeCountSum;
    let i = start;
    let closed = false;
    const row = this.#row;
    const fastEnd = n - FAST_ROW_BYTES;
    chunk: while (i < n) {
      // Whole rows while there is room.
      while (field === 0 && (state === FIRST || state === NEXT) && i < fastEnd) {
        const at = readRow(buf, i, row, fieldCount);
        if (at === -1) break;
        const type = row[typeField] as number;
        const name = row[nameField] as number;
        const id = row[idField] as number;
        const size = row[sizeField] as number;
        const edgesOfNode = row[edgesField] as number;
        if (type >= typeCount) throw this.#malformed(`node ${ordinal} has an unknown type`, offset + at);
        if (name > MAX_UINT32) throw this.#malformed(`node ${ordinal} names a string past 2^32`, offset + at);
        if (id > MAX_UINT32) throw this.#malformed(`node ${ordinal} has an id past 2^32`, offset + at);
        if (size > MAX_EXACT) throw this.#malformed(`node ${ordinal} has a self size past 2^53`, offset + at);
        if (edgesOfNode > MAX_UINT32) throw this.#malformed(`node ${ordinal} has more than 2^32 edges`, offset + at);
        if (ordinal >= nodeCount) throw this.#malformed(`there are more nodes than node_count (${nodeCount})`, offset + at);
        if (name > maxName) maxName = name;
        edgeSum += edgesOfNode;
        if (types !== undefined) types[slot] = type;
        if (names !== undefined) names[slot] = name;
        if (ids !== undefined) ids[slot] = id;
        if (sizes !== undefined) sizes[slot] = size;
        if (edgeCounts !== undefined) edgeCounts[slot] = edgesOfNode;
        ordinal++;
        if (++slot === windowRows) slot = this.#handOver(slot);
        i = at + 1;
        if (buf[at] === RBRACKET) {
          closed = true;
          break chunk;
        }
        state = NEXT;
      }
      // Byte at a time, back to whole rows as soon as one is complete and there is room.
      while (i < n) {
        let c = buf[i] as number;
        if (c >= DIGIT_0 && c <= DIGIT_9) {
          if (state === SPACE_AFTER) throw this.#malformed('"," is missing between two numbers in nodes', offset + i);
          do {
            value = value * 10 + (c - DIGIT_0);
            c = ++i < n ? (buf[i] as number) : NONE;
          } while (c >= DIGIT_0 && c <= DIGIT_9);
          state = IN_NUMBER;
          if (i === n) break chunk;
        }
        if (c === COMMA || c === RBRACKET) {
          if (state === IN_NUMBER || state === SPACE_AFTER) {
            if (field === typeField) {
              if (value >= typeCount) throw this.#malformed(`node ${ordinal} has an unknown type`, offset + i);
              if (types !== undefined) types[slot] = value;
            } else if (field === nameField) {
              if (value > MAX_UINT32) throw this.#malformed(`node ${ordinal} names a string past 2^32`, offset + i);
              if (value > maxName) maxName = value;
              if (names !== undefined) names[slot] = value;
            } else if (field === idField) {
              if (value > MAX_UINT32) throw this.#malformed(`node ${ordinal} has an id past 2^32`, offset + i);
              if (ids !== undefined) ids[slot] = value;
            } else if (field === sizeField) {
              if (value > MAX_EXACT) throw this.#malformed(`node ${ordinal} has a self size past 2^53`, offset + i);
              if (sizes !== undefined) sizes[slot] = value;
            } else if (field === edgesField) {
              if (value > MAX_UINT32) throw this.#malformed(`node ${ordinal} has more than 2^32 edges`, offset + i);
              edgeSum += value;
              if (edgeCounts !== undefined) edgeCounts[slot] = value;
            }
            value = 0;
            if (++field === fieldCount) {
              field = 0;
              // Typed arrays ignore writes past their end, so checking per row is enough.
              if (++ordinal > nodeCount) throw this.#malformed(`there are more nodes than node_count (${nodeCount})`, offset + i);
              if (++slot === windowRows) slot = this.#handOver(slot);
            }
          } else if (c === COMMA || state === NEXT) {
            throw this.#malformed('a number is missing in nodes', offset + i);
          }
          i++;
          if (c === RBRACKET) {
            closed = true;
            break chunk;
          }
          state = NEXT;
          if (field === 0 && i < fastEnd) continue chunk;
        } else if (isSpace(c)) {
          if (state === IN_NUMBER) state = SPACE_AFTER;
          i++;
        } else {
          throw this.#malformed('nodes holds something other than non-negative integers', offset + i);
        }
      }
    }
    this.#value = value;
    this.#state = state;
    this.#field = field;
    this.rows = ordinal;
    this.maxNameIndex = maxName;
    this.#edgeCountSum = edgeSum;
    this.#slot = closed && slot > 0 && windowRows !== Infinity ? this.#handOver(slot) : slot;
    if (closed) {
      const at = offset + i - 1;
      checkRows('nodes', field, ordinal, nodeCount, at);
      if (edgeSum !== header.edgeCount) throw malformed(`the nodes' edge counts add up to ${edgeSum}, not edge_count (${header.edgeCount})`, at);
      this.done = true;
    }
    return i;
  }

  /** Hands a full window (or the last rows) over; the next row goes to slot 0. */
  #handOver(rows: number): number {
    this.#onRows(rows);
    return 0;
  }

  #malformed(what: string, at: number): HeapSnapshotError {
    return malformed(what, at);
  }
}

export class EdgeArrayReader {
  done = false;
  /** Complete rows read so far. */
  rows = 0;
  readonly #header: SnapshotHeader;
  readonly #columns: EdgeColumns | null;
  #state = FIRST;
  #value = 0;
  #field = 0;
  /** The row loop's numbers, before they are checked and stored. */
  readonly #row: Float64Array;

  /** Checks every edge against the node count (which the nodes array has matched); stores them when `columns` is given. */
  constructor(header: SnapshotHeader, columns: EdgeColumns | null = null) {
    this.#header = header;
    this.#columns = columns;
    this.#row = new Float64Array(header.edgeFields.length);
  }

  /** Reads from `start` until ']' or the chunk's end; `offset` is the chunk's position in the text. */
  feed(buf: Uint8Array, start: number, offset: number): number {
    const header = this.#header;
    const fieldCount = header.edgeFields.length;
    const { type: typeField, name: nameField, toNode: toField } = header.edgeField;
    const typeCount = header.edgeTypes.length;
    const columns = this.#columns;
    const types = columns?.type;
    const names = columns?.name;
    const targets = columns?.toNode;
    const edgeCount = header.edgeCount;
    const nodeFields = header.nodeFields.length;
    const nodeValues = header.nodeCount * nodeFields;
    const n = buf.length;
    let value = this.#value;
    let state = this.#state;
    let field = this.#field;
    let ordinal = this.rows;
    let i = start;
    let closed = false;
    const row = this.#row;
    const fastEnd = n - FAST_ROW_BYTES;
    chunk: while (i < n) {
      // Whole rows while there is room.
      while (field === 0 && (state === FIRST || state === NEXT) && i < fastEnd) {
        const at = readRow(buf, i, row, fieldCount);
        if (at === -1) break;
        const type = row[typeField] as number;
        const name = row[nameField] as number;
        const to = row[toField] as number;
        // to_node is a node's offset in the flat nodes array: a multiple of its field count.
        if (to % nodeFields !== 0 || to >= nodeValues) throw this.#malformed(`edge ${ordinal} points at no node`, offset + at);
        if (type >= typeCount) throw this.#malformed(`edge ${ordinal} has an unknown type`, offset + at);
        if (ordinal >= edgeCount) throw this.#malformed(`there are more edges than edge_count (${edgeCount})`, offset + at);
        if (types !== undefined && names !== undefined && targets !== undefined) {
          if (name > MAX_UINT32) throw this.#malformed(`edge ${ordinal} has a name or index past 2^32`, offset + at);
          types[ordinal] = type;
          names[ordinal] = name;
          targets[ordinal] = to / nodeFields;
        }
        ordinal++;
        i = at + 1;
        if (buf[at] === RBRACKET) {
          closed = true;
          break chunk;
        }
        state = NEXT;
      }
      // Byte at a time, back to whole rows as soon as one is complete and there is room.
      while (i < n) {
        let c = buf[i] as number;
        if (c >= DIGIT_0 && c <= DIGIT_9) {
          if (state === SPACE_AFTER) throw this.#malformed('"," is missing between two numbers in edges', offset + i);
          do {
            value = value * 10 + (c - DIGIT_0);
            c = ++i < n ? (buf[i] as number) : NONE;
          } while (c >= DIGIT_0 && c <= DIGIT_9);
          state = IN_NUMBER;
          if (i === n) break chunk;
        }
        if (c === COMMA || c === RBRACKET) {
          if (state === IN_NUMBER || state === SPACE_AFTER) {
            if (field === toField) {
              // to_node is a node's offset in the flat nodes array: a multiple of its field count.
              if (value % nodeFields !== 0 || value >= nodeValues) throw this.#malformed(`edge ${ordinal} points at no node`, offset + i);
              if (targets !== undefined) targets[ordinal] = value / nodeFields;
            } else if (field === typeField) {
              if (value >= typeCount) throw this.#malformed(`edge ${ordinal} has an unknown type`, offset + i);
              if (types !== undefined) types[ordinal] = value;
            } else if (field === nameField && names !== undefined) {
              if (value > MAX_UINT32) throw this.#malformed(`edge ${ordinal} has a name or index past 2^32`, offset + i);
              names[ordinal] = value;
            }
            value = 0;
            if (++field === fieldCount) {
              field = 0;
              if (++ordinal > edgeCount) throw this.#malformed(`there are more edges than edge_count (${edgeCount})`, offset + i);
            }
          } else if (c === COMMA || state === NEXT) {
            throw this.#malformed('a number is missing in edges', offset + i);
          }
          i++;
          if (c === RBRACKET) {
            closed = true;
            break chunk;
          }
          state = NEXT;
          if (field === 0 && i < fastEnd) continue chunk;
        } else if (isSpace(c)) {
          if (state === IN_NUMBER) state = SPACE_AFTER;
          i++;
        } else {
          throw this.#malformed('edges holds something other than non-negative integers', offset + i);
        }
      }
    }
    this.#value = value;
    this.#state = state;
    this.#field = field;
    this.rows = ordinal;
    if (closed) {
      checkRows('edges', field, ordinal, edgeCount, offset + i - 1);
      this.done = true;
    }
    return i;
  }

  #malformed(what: string, at: number): HeapSnapshotError {
    return malformed(what, at);
  }
}

/**
 * The row loop's reader: the numbers of the row at `start` into `row`, and the position
 * of the ',' or ']' after its last one; -1, having stored nothing of use, for anything
 * else (a malformed row, or one running past the chunk's end), which the byte loop then
 * reads and words. Whitespace may surround each number, as in the byte loop.
 */
function readRow(buf: Uint8Array, start: number, row: Float64Array, fieldCount: number): number {
  let at = start;
  let c = 0;
  for (let field = 0; ; ) {
    c = buf[at] as number;
    // Whitespace is rare: one comparison rules it out for a digit or a comma.
    while (c <= SPACE && isSpace(c)) c = buf[++at] as number;
    if (!(c >= DIGIT_0 && c <= DIGIT_9)) return -1;
    let number = c - DIGIT_0;
    c = buf[++at] as number;
    while (c >= DIGIT_0 && c <= DIGIT_9) {
      number = number * 10 + (c - DIGIT_0);
      c = buf[++at] as number;
    }
    while (c <= SPACE && isSpace(c)) c = buf[++at] as number;
    row[field] = number;
    if (++field === fieldCount) break;
    if (c !== COMMA) return -1;
    at++;
  }
  return (c === COMMA || c === RBRACKET) && at < buf.length ? at : -1;
}

function isSpace(c: number): boolean {
  return c === SPACE || c === LF || c === CR || c === TAB;
}

function checkRows(array: string, field: number, rows: number, expected: number, at: number): void {
  if (field !== 0) throw malformed(`the length of ${array} is not a multiple of its field count`, at);
  if (rows !== expected) throw malformed(`${array} holds ${rows} rows but the header says ${expected}`, at);
}
