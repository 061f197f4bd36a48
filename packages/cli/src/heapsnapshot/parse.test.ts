import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarizeByClass } from './classes.js';
import { parseHeapSnapshot } from './parse.js';

const CHILD = fileURLToPath(new URL('./fixtures/snapshot-child.mjs', import.meta.url));

interface SnapshotJson {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] }; node_count: number };
  nodes: number[];
  strings: string[];
}

async function* chunksOf(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

describe('parseHeapSnapshot on a real V8 snapshot with non-ASCII names and escaped strings', () => {
  let dir = '';
  let file = '';
  let bytes: Buffer;
  let json: SnapshotJson;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'opsctl-heapsnapshot-'));
    const { stdout } = await promisify(execFile)(process.execPath, [CHILD, 'unicode', dir]);
    [file = ''] = JSON.parse(stdout) as string[];
    bytes = await readFile(file);
    json = JSON.parse(bytes.toString('utf8')) as SnapshotJson;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('decodes every string exactly as JSON.parse does, in 1 MiB chunks and in 7-byte chunks', async () => {
    const all = () => json.strings.map((_, index) => index);
    for (const source of [file, chunksOf(bytes, 7)]) {
      const snapshot = await parseHeapSnapshot(source, { keepStrings: all });
      expect(snapshot.stringCount).toBe(json.strings.length);
      const decoded = json.strings.map((_, index) => snapshot.string(index));
      expect(decoded).toEqual(json.strings);
    }
  });

  it('stores the nodes exactly as written', async () => {
    const snapshot = await parseHeapSnapshot(file);
    const fields = json.snapshot.meta.node_fields;
    const at = (name: string) => fields.indexOf(name);
    const column = (name: string) => json.nodes.filter((_, index) => index % fields.length === at(name));
    expect(snapshot.nodes.count).toBe(json.snapshot.node_count);
    expect([...snapshot.nodes.type]).toEqual(column('type'));
    expect([...snapshot.nodes.name]).toEqual(column('name'));
    expect([...snapshot.nodes.id]).toEqual(column('id'));
    expect([...snapshot.nodes.selfSize]).toEqual(column('self_size'));
  });

  it('keeps the edges exactly as written, whole rows at a time or byte by byte', async () => {
    const fields = (json.snapshot.meta as { edge_fields?: string[] }).edge_fields ?? [];
    const edges = (json as unknown as { edges: number[] }).edges;
    const column = (name: string) => edges.filter((_, index) => index % fields.length === fields.indexOf(name));
    const nodeFields = json.snapshot.meta.node_fields.length;
    for (const source of [file, chunksOf(bytes, 7)]) {
      const snapshot = await parseHeapSnapshot(source, { edges: 'keep' });
      expect([...(snapshot.edges?.type ?? [])]).toEqual(column('type'));
      expect([...(snapshot.edges?.name ?? [])]).toEqual(column('name_or_index'));
      expect([...(snapshot.edges?.toNode ?? [])]).toEqual(column('to_node').map((offset) => offset / nodeFields));
      const counts = json.nodes.filter((_, index) => index % nodeFields === json.snapshot.meta.node_fields.indexOf('edge_count'));
      expect(snapshot.edges?.firstEdge.at(-1)).toBe(edges.length / fields.length);
      expect([...(snapshot.edges?.firstEdge ?? [])].slice(1).map((end, i) => end - (snapshot.edges?.firstEdge[i] ?? 0))).toEqual(counts);
    }
  });

  it('keeps by default only the class names, which is what grouping needs', async () => {
    const snapshot = await parseHeapSnapshot(file);
    const kept = json.strings.filter((_, index) => snapshot.string(index) !== undefined);
    expect(kept).toContain('Ünïcødé_Thing');
    expect(kept.length).toBeLessThan(json.strings.length / 4);
  });

  it('groups instances of classes with non-ASCII names', async () => {
    const { groups } = summarizeByClass(await parseHeapSnapshot(chunksOf(bytes, 7)));
    expect(groups.find((group) => group.name === 'Ünïcødé_Thing')?.count).toBe(2);
    // V8 writes each character as one \uXXXX of its low 16 bits, so an emoji outside
    // the BMP reaches the file as another character (U+1F600 becomes U+F600); accept
    // the correct name too, for a V8 that fixes this.
    const emoji = 'Ünïcødé😀Thing';
    const asV8Writes = Array.from(emoji, (char) => String.fromCharCode((char.codePointAt(0) as number) & 0xffff)).join('');
    const group = groups.find((candidate) => candidate.name === emoji || candidate.name === asV8Writes);
    // The instance and its prototype, which carries the Symbol.toStringTag.
    expect(group?.count).toBe(2);
  });
});
