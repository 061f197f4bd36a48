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
import { sortPairs } from './sort.js';

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
      expect(census.groupOf).toEqual(expected.groupOf);
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
