// The import graph of both packages' sources stays as docs/CONTRIBUTING.md#layout draws
// it: no import circle; protocol/ a leaf both packages import; diagnostics/ knows nothing
// of HTTP or threads, server/ nothing of the routes or what they serve; routes and CLI
// commands each stand alone, and share code through modules outside their folders.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SOURCE_DIRS = ['packages/endpoint/src', 'packages/cli/src'];

// Static imports and re-exports start a line and name only bindings before `from`, so the
// pattern cannot run across another statement; dynamic ones are `import('…')` anywhere.
const SPECIFIERS = [/^(?:import|export)\s[\w$*\s,{}]*?from\s*(['"])(.+?)\1/gm, /^import\s*(['"])(.+?)\1/gm, /\bimport\(\s*(['"])(.+?)\1\s*\)/g];

interface Edge {
  from: string;
  to: string;
}

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Every import of the sources, as paths from the repository root; bare specifiers as written. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return SPECIFIERS.flatMap((pattern) => [...text.matchAll(pattern)].map((m) => m[2] as string)).map((specifier) =>
    specifier.startsWith('.') ? relative(root, resolve(root, dirname(file), specifier)).replace(/\.js$/, '.ts') : specifier,
  );
}

const files = SOURCE_DIRS.flatMap(sources);
const edges: Edge[] = files.flatMap((from) => importsOf(from).map((to) => ({ from, to })));
const local = edges.filter((e) => !e.to.startsWith('node:') && e.to.includes('/src/'));

/** Each circle found by a depth-first walk, as the files along it, the first repeated at the end. */
function cycles(): string[][] {
  const next = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const e of local) next.get(e.from)?.push(e.to);
  const done = new Set<string>();
  const path: string[] = [];
  const found: string[][] = [];
  const visit = (file: string): void => {
    const at = path.indexOf(file);
    if (at >= 0) return void found.push([...path.slice(at), file]);
    if (done.has(file)) return;
    path.push(file);
    for (const to of next.get(file) ?? []) visit(to);
    path.pop();
    done.add(file);
  };
  for (const file of files) visit(file);
  return found;
}

const endpoint = (dir: string) => `packages/endpoint/src/${dir}/`;
const commands = 'packages/cli/src/commands/';
const show = (list: Edge[]) => list.map((e) => `${e.from} → ${e.to}`);
const into = (from: string, dirs: string[]) => show(local.filter((e) => e.from.startsWith(endpoint(from)) && dirs.some((d) => e.to.startsWith(endpoint(d)))));

describe('the import graph', () => {
  it('finds the sources and their imports', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(local.length).toBeGreaterThan(200);
    expect(show(local.filter((e) => !existsSync(join(root, e.to))))).toEqual([]);
  });

  it('has no import circle', () => {
    expect(cycles().map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  it('keeps protocol/ a leaf: node: builtins and itself only', () => {
    expect(show(edges.filter((e) => e.from.startsWith(endpoint('protocol')) && !e.to.startsWith('node:') && !e.to.startsWith(endpoint('protocol'))))).toEqual(
      [],
    );
  });

  it('keeps diagnostics/ free of HTTP and threads', () => {
    expect(into('diagnostics', ['server', 'routes', 'host', 'thread'])).toEqual([]);
  });

  it('keeps server/ free of the routes and what they serve', () => {
    expect(into('server', ['routes', 'diagnostics', 'host'])).toEqual([]);
  });

  it('has no route import another route (routes/index.ts lists them)', () => {
    const routes = endpoint('routes');
    expect(show(local.filter((e) => e.from.startsWith(routes) && e.from !== `${routes}index.ts` && e.to.startsWith(routes)))).toEqual([]);
  });

  it('has no CLI command import another command (a registration, x.command.ts, loads the run functions it wires)', () => {
    expect(show(local.filter((e) => e.from.startsWith(commands) && !e.from.endsWith('.command.ts') && e.to.startsWith(commands)))).toEqual([]);
  });
});
