import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { takeSnapshots } from '../../test-support/index.js';
import { retainedSizes } from './dominators.js';
import { idsWithout, markByIds, readSortedIds } from './ids.js';
import { kindsOf } from './kinds.js';
import { parseHeapSnapshot } from './parse.js';
import { ROOT, type SnapshotGraph } from './paths.js';
import { findRetainedAllocations } from './retained.js';
import { retainerStrings, type HolderClass, type HolderReport, type RetainerPath } from './retainers.js';

// The holders scenario (fixtures/snapshot-child.mjs), between A and B: 2000 LeakRecord
// with a text each, pushed onto the module-level array leakedRecords; 2000 texts kept in
// a Map (sessionsById) that only a closure holds, under 2000 string keys; 500 links of a
// list (chainHead); 250 DeepThing kept at deep.level1.level2.level3.things and, from a
// shorter path, through WeakRefs.
const RECORDS = 2000;
const SESSIONS = 2000;
const LINKS = 500;
const DEEP_THINGS = 250;
// V8's own tables among the (GC roots), which no program path may pass.
const V8_TABLES = ['(Internalized strings)', '(External strings)', '(Startup object cache)', '(Shareable object cache)', '(Builtins)', '(Read-only roots)'];

function row(report: HolderReport, name: string): HolderClass {
  const found = report.classes.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`no ${name} row in ${report.classes.map((candidate) => candidate.name).join(', ')}`);
  return found;
}

function topPath(report: HolderReport, name: string): RetainerPath {
  const [path] = row(report, name).retainers;
  if (path === undefined) throw new Error(`no retainer path for ${name}`);
  return path;
}

describe('who holds what grows, in real snapshots from a child process', () => {
  let files: string[] = [];
  let remove = async () => {};
  let report: HolderReport;

  beforeAll(async () => {
    ({ files, remove } = await takeSnapshots('holders'));
    const [a = '', b = '', c = ''] = files;
    report = await findRetainedAllocations(a, b, c, { classes: 6 });
  });
  afterAll(() => remove());

  it('charges strings and internal arrays to the object that owns them: records and the Map rank first, not (string)', () => {
    expect(
      report.classes
        .slice(0, 2)
        .map((candidate) => candidate.name)
        .sort(),
    ).toEqual(['LeakRecord', 'Map']);
    const records = row(report, 'LeakRecord');
    expect(records.count).toBe(RECORDS);
    // Each record's note: a string, or a concatenated string and its pieces.
    expect(records.held.count).toBeGreaterThanOrEqual(RECORDS);
    const map = row(report, 'Map');
    // The Map itself is older than A; its new keys and texts (and its grown table) are its own.
    expect(map.count).toBe(0);
    expect(map.held.count).toBeGreaterThanOrEqual(2 * SESSIONS);
    const strings = report.classes.findIndex((candidate) => candidate.name === '(string)' || candidate.name === '(concatenated string)');
    expect(strings === -1 || strings > 1).toBe(true);
  });

  it('names each holder by the variable on its path, with the bytes it retains', () => {
    const records = topPath(report, 'LeakRecord');
    expect(records.origin).toBe('program');
    expect(records.path).toContainEqual(expect.objectContaining({ edge: 'leakedRecords', edgeType: 'context', class: 'Array' }));
    expect(records.path.at(-1)).toMatchObject({ class: 'LeakRecord', edgeType: 'element' });
    expect(records.holder).toMatchObject({ class: 'Array', edge: 'leakedRecords' });
    // The array retains every record and what they own, and more (records from before A).
    expect(records.holder?.retainedSize).toBeGreaterThan(row(report, 'LeakRecord').selfSize + row(report, 'LeakRecord').held.selfSize);

    const sessions = topPath(report, 'Map');
    expect(sessions.path).toContainEqual(expect.objectContaining({ edge: 'sessionsById', edgeType: 'context', class: 'Map' }));
    expect(sessions.path).toContainEqual(expect.objectContaining({ edge: 'remember', class: 'Function' }));
    expect(sessions.holder).toMatchObject({ class: 'Map', edge: 'sessionsById' });
    expect(sessions.holder?.retainedSize).toBeGreaterThan(row(report, 'Map').held.selfSize);
  });

  it('makes one cluster of paths that differ only in array indices, hash-table slots or list links', () => {
    for (const name of ['LeakRecord', 'Map', 'DeepThing']) {
      expect(row(report, name).retainers).toHaveLength(1);
      expect(row(report, name).morePaths).toBe(0);
    }
    expect(topPath(report, 'LeakRecord').count).toBe(RECORDS + row(report, 'LeakRecord').held.count);
    // The newest link of the run owns the older ones below it.
    // Each new link is reached only through the newer one (chainHead.next.next…): still
    // each counts as a new ChainLink, none "owned" by another link (owners.ts).
    const links = row(report, 'ChainLink');
    expect(links.count).toBe(LINKS);
    expect(links.held.count).toBe(0);
    const chain = topPath(report, 'ChainLink');
    expect(chain.path).toContainEqual(expect.objectContaining({ edge: 'next', class: 'ChainLink', times: expect.any(Number) as number }));
    expect(chain.path.length).toBeLessThan(30);
  });

  it('follows no weak edge and passes no V8 table', () => {
    const deepThings = topPath(report, 'DeepThing');
    expect(row(report, 'DeepThing').count).toBe(DEEP_THINGS);
    // Through WeakRefs from the global `weakly` is shorter, but weak: the strong path is the one shown.
    expect(deepThings.path.map((step) => step.edge)).toEqual(expect.arrayContaining(['deep', 'level1', 'level2', 'level3', 'things']));
    for (const path of report.classes.flatMap((candidate) => candidate.retainers)) {
      expect(path.path.every((step) => step.edgeType !== 'weak')).toBe(true);
      if (path.origin === 'program' || path.origin === 'runtime') expect(path.path.some((step) => V8_TABLES.includes(step.name ?? ''))).toBe(false);
    }
  });

  it('computes the retained sizes DevTools computes: a port of its dominator tree agrees', async () => {
    const [a = '', b = '', c = ''] = files;
    const newInB = idsWithout(await readSortedIds(b), await readSortedIds(a));
    const graph = (await parseHeapSnapshot(c, {
      edges: 'keep',
      keepStrings: (read) => retainerStrings(read, markByIds(read.nodes, newInB, true)),
    })) as SnapshotGraph;
    const ordinalOf = new Map(Array.from(graph.nodes.id, (id, ordinal) => [id, ordinal]));
    const reported = report.classes.flatMap((candidate) => candidate.retainers.flatMap((path) => (path.holder === null ? [] : [path.holder])));
    // The report's holders, and every 997th node besides.
    const holders = [
      ...new Set([
        ...reported.map((holder) => ordinalOf.get(holder.id) as number),
        ...Array.from({ length: Math.floor(graph.nodes.count / 997) }, (_, i) => 1 + i * 997),
      ]),
    ];
    const expected = devToolsRetainedSizes(graph);
    const actual = retainedSizes(graph, holders);
    expect(holders.length).toBeGreaterThan(20);
    for (const [i, holder] of holders.entries()) expect([holder, actual[i]]).toEqual([holder, expected[holder] === -1 ? null : expected[holder]]);
    for (const holder of reported) expect(holder.retainedSize).toBe(expected[ordinalOf.get(holder.id) as number]);
  });

  it('without edges, counts each object in its own class and traces nothing', async () => {
    const [a = '', b = '', c = ''] = files;
    const plain = await findRetainedAllocations(a, b, c, { retainers: false });
    expect(row(plain, 'LeakRecord')).toMatchObject({ count: RECORDS, held: { count: 0, selfSize: 0 }, retainers: [], morePaths: 0 });
    expect(plain.total).toEqual(report.total);
  });
});

/**
 * Retained sizes by DevTools' own method (front_end/entrypoints/heap_snapshot_worker/
 * HeapSnapshot.ts: _buildPostOrderIndex, _buildDominatorTree, _calculateRetainedSizes),
 * ported for the test: the whole dominator tree over the reversed edges, Cooper, Harvey
 * and Kennedy's iteration in post order. -1 for nodes the root does not reach.
 */
function devToolsRetainedSizes(graph: SnapshotGraph): number[] {
  const { nodes, edges } = graph;
  const { edge: kinds } = kindsOf(graph.header);
  const count = nodes.count;
  const { firstEdge, toNode, type } = edges;
  const essential = (from: number, edge: number) => type[edge] !== kinds.weak && (type[edge] !== kinds.shortcut || from === ROOT);
  // Page objects: what the root's shortcut targets reach over non-weak edges.
  const page = new Uint8Array(count);
  const stack: number[] = [];
  for (let edge = firstEdge[ROOT] as number; edge < (firstEdge[ROOT + 1] as number); edge++)
    if (type[edge] === kinds.shortcut) stack.push(toNode[edge] as number);
  for (const node of stack) page[node] = 1;
  while (stack.length > 0) {
    const from = stack.pop() as number;
    for (let edge = firstEdge[from] as number; edge < (firstEdge[from + 1] as number); edge++) {
      const to = toNode[edge] as number;
      if (type[edge] !== kinds.weak && page[to] === 0) {
        page[to] = 1;
        stack.push(to);
      }
    }
  }
  const follows = (from: number, edge: number) => essential(from, edge) && (from === ROOT || page[from] === 1 || page[toNode[edge] as number] === 0);
  // Post order by depth-first search from the root.
  const order: number[] = [];
  const position = new Int32Array(count).fill(-1);
  const visited = new Uint8Array(count);
  const frames: [number, number][] = [[ROOT, firstEdge[ROOT] as number]];
  visited[ROOT] = 1;
  while (frames.length > 0) {
    const frame = frames.at(-1) as [number, number];
    const [from, edge] = frame;
    if (edge < (firstEdge[from + 1] as number)) {
      frame[1]++;
      const to = toNode[edge] as number;
      if (visited[to] === 0 && follows(from, edge)) {
        visited[to] = 1;
        frames.push([to, firstEdge[to] as number]);
      }
    } else {
      position[from] = order.length;
      order.push(from);
      frames.pop();
    }
  }
  const retainers: number[][] = Array.from({ length: count }, () => []);
  for (let from = 0; from < count; from++) {
    for (let edge = firstEdge[from] as number; edge < (firstEdge[from + 1] as number); edge++)
      if (follows(from, edge)) (retainers[toNode[edge] as number] as number[]).push(from);
  }
  const rootPosition = order.length - 1;
  const dominator = new Int32Array(order.length).fill(-1);
  dominator[rootPosition] = rootPosition;
  for (let changed = true; changed; ) {
    changed = false;
    for (let at = rootPosition - 1; at >= 0; at--) {
      let next = -1;
      for (const retainer of retainers[order[at] as number] as number[]) {
        let candidate = position[retainer] as number;
        if (candidate === -1 || dominator[candidate] === -1) continue;
        if (next === -1) next = candidate;
        else {
          while (candidate !== next) {
            while (candidate < next) candidate = dominator[candidate] as number;
            while (next < candidate) next = dominator[next] as number;
          }
        }
      }
      if (next !== -1 && dominator[at] !== next) {
        dominator[at] = next;
        changed = true;
      }
    }
  }
  const sizes = Array.from({ length: count }, (_, node) => (position[node] === -1 ? -1 : (nodes.selfSize[node] as number)));
  for (let at = 0; at < rootPosition; at++) {
    const node = order[at] as number;
    const up = order[dominator[at] as number] as number;
    sizes[up] = (sizes[up] as number) + (sizes[node] as number);
  }
  return sizes;
}
