import { describe, expect, it } from 'vitest';
import { HeapSnapshotError } from './errors.js';
import { parseHeapSnapshot } from './parse.js';
import { SnapshotScanner, type NodeColumns } from './scanner.js';

// A small snapshot written by hand: a root, a Foo object and a string node, two edges,
// and strings that exercise every JSON escape plus raw UTF-8 (which V8 never writes, but
// other tools may).
const META = {
  node_fields: ['type', 'name', 'id', 'self_size', 'edge_count', 'trace_node_id'],
  node_types: [
    ['hidden', 'array', 'string', 'object', 'code', 'closure', 'regexp', 'number', 'native', 'synthetic'],
    'string',
    'number',
    'number',
    'number',
    'number',
  ],
  edge_fields: ['type', 'name_or_index', 'to_node'],
  edge_types: [['context', 'element', 'property', 'internal', 'hidden', 'shortcut', 'weak'], 'string_or_number', 'node'],
};
const TRICKY = String.raw`"q\"b\\s\/\b\f\n\r\t\u00e9\u00C9\uD83D\uDE00 é😀 \u0000end"`;

function doc(parts: { header?: string; nodes?: string; edges?: string; strings?: string; extra?: string } = {}): string {
  const header = parts.header ?? JSON.stringify({ meta: META, node_count: 3, edge_count: 2 });
  const nodes = parts.nodes ?? '[9,0,1,0,2,0\n,3,1,3,32,0,0\n,2,2,5,4294967296,0,0]';
  const edges = parts.edges ?? '[1,0,6\n,2,3,12]';
  const strings = parts.strings ?? `["",\n"Foo",\n${TRICKY},\n"prop"]`;
  return `{"snapshot":${header},\n"nodes":${nodes},\n"edges":${edges},\n"locations":[],${parts.extra ?? ''}\n"strings":${strings}}\n`;
}

const ALL = new Uint8Array(64).fill(1);

type StoredNodes = Required<Omit<NodeColumns, 'edgeCount' | 'window'>>;

function scan(bytes: Uint8Array, splits: number[] = []): { strings: Map<number, string>; columns: StoredNodes; counts: ReturnType<SnapshotScanner['end']> } {
  const strings = new Map<number, string>();
  let columns: StoredNodes | null = null;
  const scanner = new SnapshotScanner({
    header: (header) =>
      (columns = {
        type: new Uint8Array(header.nodeCount),
        name: new Uint32Array(header.nodeCount),
        id: new Uint32Array(header.nodeCount),
        selfSize: new Float64Array(header.nodeCount),
      }),
    stringsWanted: () => ALL,
    string: (index, value) => strings.set(index, value),
  });
  let from = 0;
  for (const at of [...splits, bytes.length]) {
    scanner.write(bytes.subarray(from, at));
    from = at;
  }
  const counts = scanner.end();
  return { strings, columns: columns as unknown as StoredNodes, counts };
}

function codeOf(text: string | Uint8Array): string {
  try {
    scan(typeof text === 'string' ? Buffer.from(text) : text);
  } catch (error) {
    expect(error).toBeInstanceOf(HeapSnapshotError);
    return (error as HeapSnapshotError).code;
  }
  return 'OK';
}

async function* chunksOf(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

describe('SnapshotScanner', () => {
  const bytes = Buffer.from(doc());
  const expected = JSON.parse(doc()) as { strings: string[] };

  it('reads nodes into columns, counts edges and decodes every escape', () => {
    const { strings, columns, counts } = scan(bytes);
    expect(counts).toMatchObject({ nodeCount: 3, edgeCount: 2, stringCount: 4, bytes: bytes.length });
    expect([...columns.type]).toEqual([9, 3, 2]);
    expect([...columns.id]).toEqual([1, 3, 5]);
    expect([...columns.selfSize]).toEqual([0, 32, 2 ** 32]);
    expect([...strings.values()]).toEqual(expected.strings);
  });

  it('gives the same result wherever the input is split, inside escapes and UTF-8 sequences too', () => {
    const whole = scan(bytes);
    for (let cut = 1; cut < bytes.length; cut++) {
      const split = scan(bytes, [cut]);
      expect(split.strings).toEqual(whole.strings);
      expect(split.columns).toEqual(whole.columns);
    }
    const byteByByte = scan(
      bytes,
      Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
    );
    expect(byteByByte.strings).toEqual(whole.strings);
  });

  it('reads one-byte chunks from a stream through parseHeapSnapshot', async () => {
    const snapshot = await parseHeapSnapshot(chunksOf(bytes, 1), { keepStrings: () => [0, 1, 2, 3] });
    expect(expected.strings.map((_, index) => snapshot.string(index))).toEqual(expected.strings);
    expect(snapshot.string(2)).toBe('q"b\\s/\b\f\n\r\téÉ😀 é😀 \u0000end');
  });

  it('decodes only the strings asked for', async () => {
    const snapshot = await parseHeapSnapshot(chunksOf(bytes, 7), { keepStrings: () => [1] });
    expect([0, 1, 2, 3].map((index) => snapshot.string(index))).toEqual([undefined, 'Foo', undefined, undefined]);
  });

  it('keeps the edges in columns when asked, wherever the input is split, with to_node as a node ordinal', async () => {
    for (const size of [1, 5, bytes.length]) {
      const snapshot = await parseHeapSnapshot(chunksOf(bytes, size), { edges: 'keep', keepStrings: () => [3] });
      expect(snapshot.edges).toMatchObject({ count: 2, firstEdge: Uint32Array.from([0, 2, 2, 2]) });
      expect([...(snapshot.edges?.type ?? [])]).toEqual([1, 2]);
      expect([...(snapshot.edges?.name ?? [])]).toEqual([0, 3]);
      expect([...(snapshot.edges?.toNode ?? [])]).toEqual([1, 2]);
    }
    expect((await parseHeapSnapshot(chunksOf(bytes, 7))).edges).toBeNull();
  });

  it('passes over the edges unread when asked: the rest as before, the edges then unchecked', async () => {
    const skipped = await parseHeapSnapshot(chunksOf(bytes, 3), { edges: 'skip', keepStrings: () => [0, 1, 2, 3] });
    expect(skipped.edgeCount).toBe(2);
    expect(expected.strings.map((_, index) => skipped.string(index))).toEqual(expected.strings);
    // An edge to no node: refused when read, not when passed over.
    const bad = Buffer.from(doc({ edges: '[1,0,6\n,2,3,99]' }));
    expect(codeOf(bad)).toBe('HEAPSNAPSHOT_MALFORMED');
    await expect(parseHeapSnapshot(chunksOf(bad, 7), { edges: 'skip' })).resolves.toMatchObject({ edgeCount: 2 });
  });

  it('keeps digit-only strings asked for as numbers, and gives their text back', async () => {
    const numbered = Buffer.from(doc({ strings: '["",\n"Foo",\n"1234",\n"0123"]' }));
    const snapshot = await parseHeapSnapshot(chunksOf(numbered, 2), { keepStrings: () => [1, 2, 3] });
    expect([1, 2, 3].map((index) => snapshot.number(index))).toEqual([undefined, 1234, undefined]);
    expect([1, 2, 3].map((index) => snapshot.string(index))).toEqual(['Foo', '1234', '0123']);
    expect(snapshot.stringIndex('Foo')).toBe(1);
    expect(snapshot.stringIndex('1234')).toBe(-1);
  });

  it('reads long arrays whole rows at a time, with odd whitespace, and words a bad row deep inside a chunk as byte by byte', () => {
    const count = 5000;
    const rows = Array.from({ length: count }, (_, i) => (i % 97 === 0 ? `3 , ${i % 4},\t${2 * i + 1},16\r\n,1,0` : `3,${i % 4},${2 * i + 1},16,1,0`));
    const edges = Array.from({ length: count }, (_, i) => `2,3,${((i + 1) % count) * 6}`);
    const header = JSON.stringify({ meta: META, node_count: count, edge_count: count });
    const text = doc({ header, nodes: `[${rows.join('\n,')}]`, edges: `[${edges.join('\n,')}]` });
    const { columns, counts } = scan(Buffer.from(text));
    expect(counts).toMatchObject({ nodeCount: count, edgeCount: count });
    expect([...columns.id]).toEqual(Array.from({ length: count }, (_, i) => 2 * i + 1));
    expect([...columns.name]).toEqual(Array.from({ length: count }, (_, i) => i % 4));
    // A row a number short or long only shows later (rows have no delimiter of their own); the rest in the row itself.
    for (const [bad, local] of [
      ['3,1,x7,16,1,0', true],
      ['3,1,7 16,1,0', true],
      ['3,1,,16,1,0', true],
      ['99,1,7,16,1,0', true],
      ['3,1,7,16,1', false],
      ['3,1,7,16,1,0,9', false],
    ] as const) {
      const broken = text.replace('3,0,2001,16,1,0', bad);
      expect(broken).not.toBe(text);
      expect(codeOf(broken)).toBe('HEAPSNAPSHOT_MALFORMED');
      if (!local) continue;
      try {
        scan(Buffer.from(broken));
      } catch (error) {
        expect(Math.abs(((error as HeapSnapshotError).offset ?? 0) - broken.indexOf(bad))).toBeLessThan(20);
      }
    }
  });

  it('skips unknown keys and values of any shape', () => {
    const extra = String.raw`"title":"a \"}] title","root_index":0,"flag":true,"nothing":null,"deep":{"a":[1,-2.5e3,{"b":"]"}],"c":{}},`;
    expect(scan(Buffer.from(doc({ extra }))).counts.stringCount).toBe(4);
  });

  it.each([
    ['an empty file', '', 'HEAPSNAPSHOT_TRUNCATED'],
    ['only whitespace', ' \n', 'HEAPSNAPSHOT_TRUNCATED'],
    ['a cut header key', '{"snap', 'HEAPSNAPSHOT_TRUNCATED'],
    ['a JSON array', '[1,2,3]', 'NOT_A_HEAPSNAPSHOT'],
    ['an empty object', '{}', 'NOT_A_HEAPSNAPSHOT'],
    ['other JSON', '{"name":"opsctl","version":"1.0.0"}', 'NOT_A_HEAPSNAPSHOT'],
    ['a key starting like snapshot', '{"snapshots":{}}', 'NOT_A_HEAPSNAPSHOT'],
    ['plain text', 'hello', 'NOT_A_HEAPSNAPSHOT'],
  ])('classifies %s', (_, text, code) => {
    expect(codeOf(text)).toBe(code);
  });

  it.each([
    ['nodes', doc().indexOf('"nodes"') + 20],
    ['edges', doc().indexOf('"edges"') + 12],
    ['strings', doc().indexOf('"strings"') + 16],
    ['the header', 30],
    ['the middle of an escape', doc().indexOf('\\uD83D') + 3],
    ['the closing brace', doc().length - 2],
  ])('calls a file cut inside %s truncated', (_, at) => {
    expect(codeOf(doc().slice(0, at))).toBe('HEAPSNAPSHOT_TRUNCATED');
  });

  it.each([
    ['a node count that disagrees with node_count', doc({ nodes: '[9,0,1,0,2,0,3,1,3,32,0,0]' })],
    ['more nodes than node_count', doc({ nodes: '[9,0,1,0,2,0,3,1,3,32,0,0,2,2,5,24,0,0,2,2,7,24,0,0]' })],
    ['a partial node row', doc({ nodes: '[9,0,1,0,2,0,3,1,3,32,0,0,2,2,5,24,0]' })],
    ['an edge count that disagrees with edge_count', doc({ edges: '[1,0,6]' })],
    ['edge counts that do not add up', doc({ nodes: '[9,0,1,0,1,0,3,1,3,32,0,0,2,2,5,24,0,0]' })],
    ['an edge to no node', doc({ edges: '[1,0,6,2,3,13]' })],
    ['an edge past the last node', doc({ edges: '[1,0,6,2,3,18]' })],
    ['an unknown node type', doc({ nodes: '[9,0,1,0,2,0,30,1,3,32,0,0,2,2,5,24,0,0]' })],
    ['a name past the strings', doc({ nodes: '[9,0,1,0,2,0,3,9,3,32,0,0,2,2,5,24,0,0]' })],
    ['a negative number', doc({ nodes: '[9,0,1,0,2,0,3,1,3,-32,0,0,2,2,5,24,0,0]' })],
    ['a fraction', doc({ nodes: '[9,0,1,0,2,0,3,1,3,3.2,0,0,2,2,5,24,0,0]' })],
    ['a missing comma', doc({ nodes: '[9,0,1,0,2,0,3,1,3 32,0,0,2,2,5,24,0,0]' })],
    ['a double comma', doc({ nodes: '[9,0,1,0,2,0,3,1,3,,32,0,2,2,5,24,0,0]' })],
    ['a trailing comma', doc({ edges: '[1,0,6,2,3,12,]' })],
    ['a bad escape', doc({ strings: String.raw`["","Foo","\x41","prop"]` })],
    ['a short \\u escape', doc({ strings: String.raw`["","Foo","\u00G1","prop"]` })],
    ['a raw control character', doc({ strings: '["","Foo","tab\there","prop"]' })],
    ['a number among the strings', doc({ strings: '["","Foo",3,"prop"]' })],
    ['a header without node_fields', doc({ header: JSON.stringify({ meta: { ...META, node_fields: undefined }, node_count: 3, edge_count: 2 }) })],
    ['a header without self_size', doc({ header: JSON.stringify({ meta: { ...META, node_fields: ['type', 'name', 'id'] }, node_count: 3, edge_count: 2 }) })],
    ['a header with a negative node_count', doc({ header: JSON.stringify({ meta: META, node_count: -1, edge_count: 2 }) })],
    ['data after the end', `${doc()}{}`],
    ['a duplicate key', doc({ extra: '"locations":[],' })],
    ['unbalanced brackets in a skipped value', doc({ extra: '"samples":[1,2},' })],
  ])('calls %s malformed', (_, text) => {
    expect(codeOf(text)).toBe('HEAPSNAPSHOT_MALFORMED');
  });

  it('calls strings before nodes malformed: the order V8 writes is required', () => {
    const text = `{"snapshot":${JSON.stringify({ meta: META, node_count: 0, edge_count: 0 })},"strings":[],"nodes":[],"edges":[]}`;
    expect(codeOf(text)).toBe('HEAPSNAPSHOT_MALFORMED');
  });

  it('reports where a truncation or a problem was found', () => {
    const text = doc();
    const at = text.indexOf('"nodes"') + 20;
    try {
      scan(Buffer.from(text.slice(0, at)));
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'HEAPSNAPSHOT_TRUNCATED', offset: at });
    }
  });
});
