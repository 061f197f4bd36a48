import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import module from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileCacheDir } from './compile-cache.js';

// In children of their own, from the build (pnpm test builds first): a cache, once on,
// stays on for the process that turned it on.
const BIN = new URL('../dist/bin.js', import.meta.url).pathname;
const MODULE = new URL('../build/compile-cache.js', import.meta.url).href;
const supported = typeof (module as unknown as { enableCompileCache?: unknown }).enableCompileCache === 'function';
const run = promisify(execFile);

let home: string;
let env: Record<string, string>;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'opsctl-compile-cache-'));
  const { NODE_COMPILE_CACHE: _, NODE_DISABLE_COMPILE_CACHE: __, ...rest } = process.env as Record<string, string>;
  env = { ...rest, XDG_CACHE_HOME: join(home, 'cache') };
  mkdirSync(env['XDG_CACHE_HOME'] as string);
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const cacheDir = () => compileCacheDir(env)?.dir ?? 'no cache directory';
const outcome = async (extra: Record<string, string> = {}) =>
  (
    await run(process.execPath, ['-e', `import(process.argv[1]).then((m) => console.log(m.enableCompileCache(process.env)))`, MODULE], {
      env: { ...env, ...extra },
    })
  ).stdout.trim();

describe('compileCacheDir', () => {
  it('is under XDG_CACHE_HOME when absolute, else under ~/.cache', () => {
    expect(compileCacheDir({ XDG_CACHE_HOME: '/c', HOME: '/h' })).toEqual({ dir: '/c/opsctl/compile-cache', base: '/c' });
    expect(compileCacheDir({ XDG_CACHE_HOME: 'relative', HOME: '/h' })).toEqual({ dir: '/h/.cache/opsctl/compile-cache', base: '/h' });
  });

  it('is nowhere without an absolute base: an empty or relative HOME is not the current directory', () => {
    expect(compileCacheDir({ HOME: 'relative' })).toBeNull();
    expect(compileCacheDir({ HOME: '' })?.base).toBe(homedir());
  });
});

describe.runIf(supported)('enableCompileCache on Node 22.1+', () => {
  it('keeps compiled code in a 0700 directory of the user, filled by a run and used by the next', async () => {
    await run(process.execPath, [BIN, 'heapdump', '--help'], { env });
    const dir = cacheDir();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const entries = readdirSync(dir, { recursive: true });
    expect(entries.length).toBeGreaterThan(1);
    const { stdout, stderr } = await run(process.execPath, [BIN, 'heapdump', '--help'], { env: { ...env, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' } });
    expect(stdout).toContain('opsctl heapdump');
    expect(stderr).toMatch(/V8 code cache for ESM \S+\/main\.js was accepted/);
  });

  it('does not use a directory that others can write', async () => {
    const dir = cacheDir();
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    expect(await outcome()).toBe('unsafe');
    expect(readdirSync(dir)).toEqual([]);
  });

  it.runIf(process.getuid?.() === 0)("makes nothing in another user's directory (sudo keeping the user's HOME)", async () => {
    const cache = join(home, 'cache');
    chownSync(cache, 65534, 65534);
    expect(await outcome()).toBe('unsafe');
    expect(readdirSync(cache)).toEqual([]);
  });

  it.runIf(process.getuid?.() === 0)('uses no directory reached through one another user could swap', async () => {
    // A link in the path to a directory of someone else's: they could swap what it holds.
    const theirs = join(home, 'theirs');
    mkdirSync(theirs);
    chownSync(theirs, 65534, 65534);
    symlinkSync(theirs, join(home, 'cache', 'opsctl'));
    expect(await outcome()).toBe('unsafe');
    expect(readdirSync(theirs)).toEqual([]);
  });

  it('uses no directory under one that others can write, unless it is sticky like /tmp', async () => {
    chmodSync(join(home, 'cache'), 0o775);
    expect(await outcome()).toBe('unsafe');
    chmodSync(join(home, 'cache'), 0o1777);
    expect(await outcome()).toBe('enabled');
  });

  it("closes a cache directory of the user's that others could enter to 0700: Node's own directory inside follows the umask", async () => {
    const dir = cacheDir();
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    chmodSync(dir, 0o755);
    expect(await outcome()).toBe('enabled');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it("leaves the user's own NODE_COMPILE_CACHE or NODE_DISABLE_COMPILE_CACHE to Node", async () => {
    expect(await outcome({ NODE_DISABLE_COMPILE_CACHE: '1' })).toBe('user-setting');
    expect(existsSync(cacheDir())).toBe(false);
  });

  it('makes no HOME that does not exist (as root, /nonexistent would be made)', async () => {
    const missing = join(home, 'nonexistent');
    expect(await outcome({ XDG_CACHE_HOME: '', HOME: missing })).toBe('unavailable');
    expect(existsSync(missing)).toBe(false);
  });

  it('runs without a cache when the directory cannot be made', async () => {
    chmodSync(join(home, 'cache'), 0o500);
    const expected = process.getuid?.() === 0 ? 'enabled' : 'unavailable'; // root writes anyway
    expect(await outcome()).toBe(expected);
  });
});

describe.skipIf(supported)('enableCompileCache on Node 20', () => {
  it('does nothing: no directory is made', async () => {
    expect(await outcome()).toBe('unsupported');
    expect(existsSync(cacheDir())).toBe(false);
  });
});
