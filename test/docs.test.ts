// The docs cannot drift from what they describe: the command reference in docs/cli/ is
// the real --help output, the README keeps the two set-up commands, every relative link
// and anchor in the README and docs/ resolves, and every .md file the code names exists.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/processes.js';

const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git']);

function filesUnder(dir: string, keep: (file: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return SKIPPED_DIRS.has(entry.name) ? [] : filesUnder(path, keep);
    return keep(entry.name) ? [path] : [];
  });
}

const pages = [join(repoRoot, 'README.md'), ...filesUnder(join(repoRoot, 'docs'), (name) => name.endsWith('.md'))];
const fromRoot = (path: string): string => relative(repoRoot, path).split('\\').join('/');

/** GitHub's anchor for a heading: lower case, punctuation dropped, each space a hyphen. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a Markdown page's headings, numbered as GitHub numbers repeats. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const found = new Set<string>();
  for (const [, heading] of withoutFences(markdown).matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const base = slug(heading as string);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    found.add(count === 0 ? base : `${base}-${count}`);
  }
  return found;
}

function withoutFences(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '');
}

/** The page without fenced blocks and inline code, where brackets are not links. */
function withoutCode(markdown: string): string {
  return withoutFences(markdown).replace(/`[^`\n]*`/g, '');
}

/** Why `target` (a path, maybe with #anchor) does not resolve from `file`; null when it does. */
function brokenLink(file: string, target: string): string | null {
  const [path = '', anchor] = target.split('#');
  const resolved = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
  const name = fromRoot(resolved);
  if (!existsSync(resolved)) return `${name} does not exist`;
  if (anchor === undefined || statSync(resolved).isDirectory() || !resolved.endsWith('.md')) return null;
  return anchors(readFileSync(resolved, 'utf8')).has(anchor) ? null : `${name} has no heading #${anchor}`;
}

describe('docs', () => {
  it('show exactly what opsctl --help prints for every command', () => {
    const script = join(repoRoot, 'scripts/docs-cli.mjs');
    expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('give the two set-up commands for a fresh machine in the README', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const pinned = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { packageManager: string }).packageManager;
    expect(readme).toContain(`npm install -g ${pinned} && pnpm install && pnpm demo`);
    expect(readme).toMatch(/```sh\npnpm test\n```/);
  });

  it('keep the README under 200 lines', () => {
    expect(readFileSync(join(repoRoot, 'README.md'), 'utf8').split('\n').length).toBeLessThanOrEqual(200);
  });

  it('link only to files and headings that exist', () => {
    expect(pages.length).toBeGreaterThan(5);
    const broken: string[] = [];
    for (const file of pages) {
      for (const [, target] of withoutCode(readFileSync(file, 'utf8')).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z][a-z+.-]*:/i.test(target as string)) continue;
        const why = brokenLink(file, target as string);
        if (why !== null) broken.push(`${fromRoot(file)}: (${target}): ${why}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('exist for every .md file the code, scripts and tests name', () => {
    const sources = ['packages', 'scripts', 'test', 'examples', '.ci'].flatMap((dir) =>
      filesUnder(join(repoRoot, dir), (name) => /\.(ts|mjs|js)$/.test(name) || name === 'run'),
    );
    expect(sources.length).toBeGreaterThan(50);
    const missing: string[] = [];
    for (const file of sources) {
      const text = readFileSync(file, 'utf8');
      for (const [, path, anchor] of text.matchAll(/(?<![\w/.$-])((?:\.\.?\/)*(?:[\w-]+\/)*[\w-]+\.md)(?:#([\w-]+))?/g)) {
        // A path from the repository's root, or relative to the file (`../README.md`).
        const candidates = [resolve(repoRoot, path as string), resolve(dirname(file), path as string)];
        const found = candidates.find((candidate) => existsSync(candidate));
        if (found === undefined) {
          missing.push(`${fromRoot(file)}: ${path} does not exist`);
          continue;
        }
        if (anchor !== undefined && !anchors(readFileSync(found, 'utf8')).has(anchor)) missing.push(`${fromRoot(file)}: ${path} has no heading #${anchor}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
