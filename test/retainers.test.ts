// Who holds what grows, end to end: a real application with two leaks behind different
// holders, three snapshots taken through its endpoint, the built binary's report.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RetainedResult } from '../packages/cli/src/operations/heap-diff.js';
import type { HolderClass } from '../packages/cli/src/heapsnapshot/index.js';
import { mintToken, opsctl, startApp, type RunningApp } from './support/processes.js';

const holdersApp = fileURLToPath(new URL('./fixtures/holders-app.mjs', import.meta.url));
// Between snapshots A and B: this many audit records (each with its own line of text) on
// the module-level array auditTrail, and as many sessions (a text key and a JSON text
// value each) in the Map sessionsById that only a closure holds.
const GROWN = 3000;
const work = mkdtempSync(join(tmpdir(), 'opsctl-e2e-retainers-'));
let app: RunningApp;
let env: Record<string, string>;

beforeAll(async () => {
  const token = await mintToken('sre', 'heap');
  app = await startApp(holdersApp, { OPSCTL_TOKENS: token.line });
  env = { OPSCTL_URL: app.ops, OPSCTL_TOKEN: token.token };
});
afterAll(async () => {
  await app?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function grow(n: number): Promise<void> {
  const response = await fetch(`${app.app}/grow?n=${n}`);
  expect(response.status).toBe(200);
  await response.text();
}

async function heapdump(name: string): Promise<string> {
  const path = join(work, name);
  const run = await opsctl(['heapdump', '--out', path], { env, timeoutMs: 120_000 });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return path;
}

function row(classes: readonly HolderClass[], name: string): HolderClass {
  const found = classes.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`no ${name} among ${classes.map((candidate) => candidate.name).join(', ')}`);
  return found;
}

/** The two holders, by their variables, each with the strings of its leak charged to it. */
function expectBothHolders(classes: readonly HolderClass[], grown: number): void {
  // The application's objects first: their strings count with them, not as (string).
  expect(
    classes
      .slice(0, 2)
      .map((candidate) => candidate.name)
      .sort(),
  ).toEqual(['AuditRecord', 'Map']);

  const records = row(classes, 'AuditRecord');
  expect(records.count).toBeGreaterThanOrEqual(grown);
  // Each record's line of text: a string, or a concatenated string and its pieces.
  expect(records.held.count).toBeGreaterThanOrEqual(records.count);
  const [trail] = records.retainers;
  expect(trail?.origin).toBe('program');
  expect(trail?.path).toContainEqual(expect.objectContaining({ edge: 'auditTrail', edgeType: 'context', class: 'Array' }));
  expect(trail?.holder).toMatchObject({ class: 'Array', edge: 'auditTrail' });
  expect(trail?.holder?.retainedSize).toBeGreaterThanOrEqual(records.selfSize + records.held.selfSize);

  // The Map is older than the leak; the keys and texts put in it are its own.
  const map = row(classes, 'Map');
  expect(map.count).toBe(0);
  expect(map.held.count).toBeGreaterThanOrEqual(2 * grown);
  const [store] = map.retainers;
  expect(store?.origin).toBe('program');
  expect(store?.path).toContainEqual(expect.objectContaining({ edge: 'sessionsById', edgeType: 'context', class: 'Map' }));
  expect(store?.holder).toMatchObject({ class: 'Map', edge: 'sessionsById' });
  expect(store?.holder?.retainedSize).toBeGreaterThanOrEqual(map.held.selfSize);
}

describe('opsctl heapdiff on snapshots taken through the endpoint', () => {
  it('names both holders by their variables, with the leaked strings charged to them', async () => {
    await grow(100);
    const a = await heapdump('a.heapsnapshot');
    await grow(GROWN);
    const b = await heapdump('b.heapsnapshot');
    await grow(GROWN / 3);
    const c = await heapdump('c.heapsnapshot');

    const run = await opsctl(['heapdiff', a, b, c, '--json'], { env, timeoutMs: 120_000 });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as RetainedResult;
    expectBothHolders(report.classes, GROWN);
    expect(row(report.classes, 'AuditRecord').count).toBe(GROWN);

    const text = await opsctl(['heapdiff', a, b, c], { env, timeoutMs: 120_000 });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/→ auditTrail \(Array\) → \[\d+\] → AuditRecord\n +holder: auditTrail \(Array @\d+\), retains /);
    expect(text.stdout).toMatch(/→ sessionsById \(Map\)\n +holder: sessionsById \(Map @\d+\), retains /);
  });

  it('does the same with leaks --diff, the snapshots taken an interval apart while the app grows', async () => {
    const growing = setInterval(() => void fetch(`${app.app}/grow?n=100`).then((response) => response.text()), 100);
    try {
      const run = await opsctl(['leaks', '--diff', '--interval', '3s', '--json'], { env, timeoutMs: 180_000 });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const report = JSON.parse(run.stdout) as RetainedResult;
      expect(report.kind).toBe('retained');
      // About 30 requests of 100 in the 3 s between the first two snapshots.
      expectBothHolders(report.classes, 1000);
    } finally {
      clearInterval(growing);
    }
  });
});
