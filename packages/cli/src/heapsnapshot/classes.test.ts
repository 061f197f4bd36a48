import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readClassSummary } from './census.js';
import { classNamesByType, idsOfGroup, summarizeByClass } from './classes.js';
import { parseHeapSnapshot } from './parse.js';
import { GroupById } from './ids.js';
import { sortDistinctPairsInPlace, sortPairs } from './sort.js';

const CHILD = fileURLToPath(new URL('./fixtures/snapshot-child.mjs', import.meta.url));

interface SnapshotJson {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

describe('classNamesByType', () => {
  it('names classes as DevTools does', () => {
    const types = [
      'hidden',
      'array',
      'string',
      'object',
      'code',
      'closure',
      'regexp',
      'number',
      'native',
      'synthetic',
      'concatenated string',
      'sliced string',
      'symbol',
      'bigint',
      'object shape',
    ];
    expect(classNamesByType(types)).toEqual([
      '(system)',
      '(array)',
      '(string)',
      null,
      '(compiled code)',
      'Function',
      'RegExp',
      '(number)',
      null,
      '(synthetic)',
      '(concatenated string)',
      '(sliced string)',
      '(symbol)',
      '(bigint)',
      '(object shape)',
    ]);
  });
});

describe('summarizeByClass on a real snapshot', () => {
  let dir = '';
  let file = '';
  let json: SnapshotJson;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'opsctl-heapsnapshot-'));
    const { stdout } = await promisify(execFile)(process.execPath, [CHILD, 'unicode', dir]);
    [file = ''] = JSON.parse(stdout) as string[];
    json = JSON.parse(await readFile(file, 'utf8')) as SnapshotJson;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('matches a plain re-count of the JSON: every group, count and size', async () => {
    const fields = json.snapshot.meta.node_fields;
    const [type, name, size] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field)) as [number, number, number];
    const classNames = classNamesByType(json.snapshot.meta.node_types[0]);
    const expected = new Map<string, { count: number; selfSize: number }>();
    for (let at = 0; at < json.nodes.length; at += fields.length) {
      const selfSize = json.nodes[at + size] as number;
      if (selfSize === 0) continue;
      const className = classNames[json.nodes[at + type] as number] ?? (json.strings[json.nodes[at + name] as number] as string);
      const group = expected.get(className) ?? { count: 0, selfSize: 0 };
      expected.set(className, { count: group.count + 1, selfSize: group.selfSize + selfSize });
    }
    const summary = summarizeByClass(await parseHeapSnapshot(file));
    expect(new Map(summary.groups.map((group) => [group.name, { count: group.count, selfSize: group.selfSize }]))).toEqual(expected);
    expect(summary.groups.map((group) => group.selfSize)).toEqual(summary.groups.map((group) => group.selfSize).sort((a, b) => b - a));
  });

  it('takes the same census while reading, in windows of rows, from a file or a stream in small chunks', async () => {
    const expected = summarizeByClass(await parseHeapSnapshot(file));
    const bytes = await readFile(file);
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let at = 0; at < bytes.length; at += 4099) yield bytes.subarray(at, at + 4099);
    }
    for (const source of [file, chunks()]) {
      const census = await readClassSummary(source);
      expect(census.groups).toEqual(expected.groups);
      expect(census.ids).toEqual(expected.ids);
      expect(Array.from(census.groupOf)).toEqual(Array.from(expected.groupOf));
    }
  });

  it('widens its class keys past 16 bits when a snapshot names more classes than that', async () => {
    // A snapshot written by hand: 70,000 objects, each of a class of its own, then one more of class 0.
    const classes = 70_000;
    const rows: string[] = [];
    for (let i = 0; i <= classes; i++) rows.push(`3,${i % classes},${2 * i + 1},${16 + (i % 7)},0,0,0`);
    const meta = {
      node_fields: ['type', 'name', 'id', 'self_size', 'edge_count', 'trace_node_id', 'detachedness'],
      node_types: [['hidden', 'array', 'string', 'object'], 'string', 'number', 'number', 'number', 'number', 'number'],
      edge_fields: ['type', 'name_or_index', 'to_node'],
      edge_types: [['context', 'element', 'property'], 'string_or_number', 'node'],
    };
    const names = Array.from({ length: classes }, (_, i) => `"Class${i}"`);
    const text = `{"snapshot":${JSON.stringify({ meta, node_count: classes + 1, edge_count: 0 })},\n"nodes":[${rows.join(',\n')}],\n"edges":[],\n"strings":[${names.join(',')}]}`;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      yield Buffer.from(text);
    }
    const census = await readClassSummary(chunks());
    expect(census.groupOf).toBeInstanceOf(Uint32Array);
    expect(census.groups).toHaveLength(classes);
    const byName = new Map(census.groups.map((group, index) => [group.name, { ...group, index }]));
    expect(byName.get('Class0')).toMatchObject({ count: 2, selfSize: 16 + 16 + (classes % 7) });
    expect(byName.get('Class69999')).toMatchObject({ count: 1 });
    // Each id in its class: id 2i + 1 is object i, of class i mod 70,000.
    for (const i of [0, 1, 65_535, 65_536, 69_999, 70_000]) {
      const at = census.ids.indexOf(2 * i + 1);
      expect(census.groups[census.groupOf[at] as number]?.name).toBe(`Class${i % classes}`);
    }
  });

  it('lists each counted object once, by ascending id, with its group', async () => {
    const summary = summarizeByClass(await parseHeapSnapshot(file));
    expect(summary.ids.length).toBe(summary.groups.reduce((sum, group) => sum + group.count, 0));
    expect(summary.ids.every((id, index) => index === 0 || (summary.ids[index - 1] as number) < id)).toBe(true);
    for (const [index, group] of summary.groups.entries()) expect(idsOfGroup(summary, index)).toHaveLength(group.count);
  });
});

describe('sortPairs', () => {
  it('sorts ids across the whole 32-bit range and carries the values along', () => {
    const keys = Uint32Array.from({ length: 20_000 }, () => Math.floor(Math.random() * 2 ** 32));
    keys[0] = 2 ** 32 - 1;
    keys[1] = 0;
    const values = Uint32Array.from(keys, (key) => key % 1000);
    const expected = keys.slice().sort();
    sortPairs(keys, values);
    expect(keys).toEqual(expected);
    expect(values).toEqual(Uint32Array.from(expected, (key) => key % 1000));
  });
});

describe('sortDistinctPairsInPlace', () => {
  it('sorts distinct ids in place across the 32-bit range, small and large buckets alike, carrying the values along', () => {
    const distinct = new Set<number>([0, 2 ** 32 - 1, 1, 2 ** 24, 2 ** 24 - 1]);
    // Dense runs like a snapshot's odd ids, sparse ones like native ids derived from addresses.
    for (let id = 1; distinct.size < 60_000; id += 2) distinct.add(id);
    while (distinct.size < 80_000) distinct.add(Math.floor(Math.random() * 2 ** 32));
    const keys = Uint32Array.from([...distinct].sort(() => Math.random() - 0.5));
    const values = Uint32Array.from(keys, (key) => key % 1000);
    const expected = keys.slice().sort();
    sortDistinctPairsInPlace(keys, values);
    expect(keys).toEqual(expected);
    expect(values).toEqual(Uint32Array.from(expected, (key) => key % 1000));
    const empty = new Uint32Array(0);
    sortDistinctPairsInPlace(empty, empty);
    const one = Uint32Array.of(7);
    sortDistinctPairsInPlace(one, Uint32Array.of(1));
    expect(Array.from(one)).toEqual([7]);
  });
});

describe('a crafted node_count', () => {
  it('costs no memory for the rows it claims but does not hold, even past 65,536 classes (child process, the build)', async () => {
    // 400 million nodes claimed, 70,001 held: before, widening the class keys to 32 bits
    // copied the whole claimed array (1.6 GB touched); now only the rows read.
    const child = `
      import(process.argv[1]).then(async ({ readClassSummary }) => {
        const classes = 70_000;
        const rows = [];
        for (let i = 0; i <= classes; i++) rows.push('3,' + (i % classes) + ',' + (2 * i + 1) + ',16,0,0,0');
        const meta = { node_fields: ['type', 'name', 'id', 'self_size', 'edge_count', 'trace_node_id', 'detachedness'],
          node_types: [['hidden', 'array', 'string', 'object'], 'string', 'number', 'number', 'number', 'number', 'number'],
          edge_fields: ['type', 'name_or_index', 'to_node'], edge_types: [['context', 'element', 'property'], 'string_or_number', 'node'] };
        const names = Array.from({ length: classes }, (_, i) => '"C' + i + '"');
        const text = '{"snapshot":' + JSON.stringify({ meta, node_count: 400_000_000, edge_count: 0 }) + ',"nodes":[' + rows.join(',') + '],"edges":[],"strings":[' + names.join(',') + ']}';
        const error = await readClassSummary((async function* () { yield Buffer.from(text); })()).catch((caught) => caught);
        console.log(JSON.stringify({ code: error.code, maxRssBytes: process.resourceUsage().maxRSS * 1024 }));
      });`;
    const module = new URL('../../build/heapsnapshot/census.js', import.meta.url).href;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', child, module]);
    const { code, maxRssBytes } = JSON.parse(stdout) as { code: string; maxRssBytes: number };
    expect(code).toBe('HEAPSNAPSHOT_MALFORMED');
    expect(maxRssBytes).toBeLessThan(400 * 1024 * 1024);
  });
});

describe('GroupById', () => {
  it('finds the group of each id through the table (odd ids) and the sorted rest (even ids), -1 for the others', () => {
    const ids = Uint32Array.of(7, 1, 1_000_000_002, 5, 64, 9);
    const groupOf = Uint16Array.of(3, 0, 2, 1, 4, 0);
    const lookup = new GroupById(ids, groupOf, 5);
    expect([1, 5, 7, 9, 64, 1_000_000_002].map((id) => lookup.groupOf(id))).toEqual([0, 1, 3, 0, 4, 2]);
    expect([3, 11, 2, 1_000_000_000, 2 ** 32 - 1].map((id) => lookup.groupOf(id))).toEqual([-1, -1, -1, -1, -1]);
  });

  it('keeps the first of a repeated id (a malformed file), in the table as in the sorted rest', () => {
    const lookup = new GroupById(Uint32Array.of(3, 1, 3, 8, 8), Uint16Array.of(1, 0, 2, 3, 3), 4);
    expect(lookup.groupOf(3)).toBe(1);
    expect(lookup.groupOf(8)).toBe(3);
  });

  it('sorts and searches every id when odd ids are too sparse for a table', () => {
    const ids = Uint32Array.of(4_000_000_001, 3, 2_000_000_001);
    const lookup = new GroupById(ids, Uint32Array.of(70_000, 1, 2), 70_001);
    expect([3, 2_000_000_001, 4_000_000_001, 5].map((id) => lookup.groupOf(id))).toEqual([1, 2, 70_000, -1]);
  });
});
