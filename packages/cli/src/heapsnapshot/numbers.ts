// Readers for the flat `nodes` and `edges` integer arrays: about 90% of a snapshot's
// bytes, so this is the hot path. Digits are folded into a double as they arrive, with no
// string per number; a value is checked (and stored) when its ',' or ']' arrives, so a
// number split across chunks simply carries on in the next one. The two loops repeat the
// number syntax on purpose: one shared loop calling out per row measured 1.7x slower.
import { malformed, type HeapSnapshotError } from './errors.js';
import type { SnapshotHeader } from './header.js';

/** Where node fields go, indexed by node ordinal (row number); a column left out is not stored. */
export interface NodeColumns {
  readonly type?: Uint8Array;
  readonly name?: Uint32Array;
  readonly id?: Uint32Array;
  readonly selfSize?: Float64Array;
  /** edge_count, for finding a node's edges when they are kept. */
  readonly edgeCount?: Uint32Array;
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

  /** Checks every node; stores the ones the scan keeps when `columns` is given. */
  constructor(header: SnapshotHeader, columns: NodeColumns | null) {
    this.#header = header;
    this.#columns = columns;
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
    const n = buf.length;
    let value = this.#value;
    let state = this.#state;
    let field = this.#field;
    let ordinal = this.rows;
    let maxName = this.maxNameIndex;
    let edgeSum = this.#edgeCountSum;
    let i = start;
    let closed = false;
    while (i < n) {
      let c = buf[i] as number;
      if (c >= DIGIT_0 && c <= DIGIT_9) {
        if (state === SPACE_AFTER) throw this.#malformed('"," is missing between two numbers in nodes', offset + i);
        do {
          value = value * 10 + (c - DIGIT_0);
          c = ++i < n ? (buf[i] as number) : NONE;
        } while (c >= DIGIT_0 && c <= DIGIT_9);
        state = IN_NUMBER;
        if (i === n) break;
      }
      if (c === COMMA || c === RBRACKET) {
        if (state === IN_NUMBER || state === SPACE_AFTER) {
          if (field === typeField) {
            if (value >= typeCount) throw this.#malformed(`node ${ordinal} has an unknown type`, offset + i);
            if (types !== undefined) types[ordinal] = value;
          } else if (field === nameField) {
            if (value > MAX_UINT32) throw this.#malformed(`node ${ordinal} names a string past 2^32`, offset + i);
            if (value > maxName) maxName = value;
            if (names !== undefined) names[ordinal] = value;
          } else if (field === idField) {
            if (value > MAX_UINT32) throw this.#malformed(`node ${ordinal} has an id past 2^32`, offset + i);
            if (ids !== undefined) ids[ordinal] = value;
          } else if (field === sizeField) {
            if (value > MAX_EXACT) throw this.#malformed(`node ${ordinal} has a self size past 2^53`, offset + i);
            if (sizes !== undefined) sizes[ordinal] = value;
          } else if (field === edgesField) {
            if (value > MAX_UINT32) throw this.#malformed(`node ${ordinal} has more than 2^32 edges`, offset + i);
            edgeSum += value;
            if (edgeCounts !== undefined) edgeCounts[ordinal] = value;
          }
          value = 0;
          if (++field === fieldCount) {
            field = 0;
            // Typed arrays ignore writes past their end, so checking per row is enough.
            if (++ordinal > nodeCount) throw this.#malformed(`there are more nodes than node_count (${nodeCount})`, offset + i);
          }
        } else if (c === COMMA || state === NEXT) {
          throw this.#malformed('a number is missing in nodes', offset + i);
        }
        i++;
        if (c === RBRACKET) {
          closed = true;
          break;
        }
        state = NEXT;
      } else if (isSpace(c)) {
        if (state === IN_NUMBER) state = SPACE_AFTER;
        i++;
      } else {
        throw this.#malformed('nodes holds something other than non-negative integers', offset + i);
      }
    }
    this.#value = value;
    this.#state = state;
    this.#field = field;
    this.rows = ordinal;
    this.maxNameIndex = maxName;
    this.#edgeCountSum = edgeSum;
    if (closed) {
      const at = offset + i - 1;
      checkRows('nodes', field, ordinal, nodeCount, at);
      if (edgeSum !== header.edgeCount) throw malformed(`the nodes' edge counts add up to ${edgeSum}, not edge_count (${header.edgeCount})`, at);
      this.done = true;
    }
    return i;
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
  #state = FIRST;
  #value = 0;
  #field = 0;

  readonly #columns: EdgeColumns | null;

  /** Checks every edge against the node count (which the nodes array has matched); stores them when `columns` is given. */
  constructor(header: SnapshotHeader, columns: EdgeColumns | null = null) {
    this.#header = header;
    this.#columns = columns;
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
    while (i < n) {
      let c = buf[i] as number;
      if (c >= DIGIT_0 && c <= DIGIT_9) {
        if (state === SPACE_AFTER) throw this.#malformed('"," is missing between two numbers in edges', offset + i);
        do {
          value = value * 10 + (c - DIGIT_0);
          c = ++i < n ? (buf[i] as number) : NONE;
        } while (c >= DIGIT_0 && c <= DIGIT_9);
        state = IN_NUMBER;
        if (i === n) break;
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
          break;
        }
        state = NEXT;
      } else if (isSpace(c)) {
        if (state === IN_NUMBER) state = SPACE_AFTER;
        i++;
      } else {
        throw this.#malformed('edges holds something other than non-negative integers', offset + i);
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

function isSpace(c: number): boolean {
  return c === SPACE || c === LF || c === CR || c === TAB;
}

function checkRows(array: string, field: number, rows: number, expected: number, at: number): void {
  if (field !== 0) throw malformed(`the length of ${array} is not a multiple of its field count`, at);
  if (rows !== expected) throw malformed(`${array} holds ${rows} rows but the header says ${expected}`, at);
}
