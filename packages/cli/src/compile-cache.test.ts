import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileCacheDir } from './compile-cache.js';

// In children of their own, from the build (pnpm test builds first): a cache, once on,
// stays on for the process that turned it on.
const BIN = new URL('../dist/bin.js', import.meta.url).pathname;
const MODULE = new URL('../dist/compile-cache.js', import.meta.url).href;
const supported = typeof (module as unknown as { enableCompileCache?: unknown }).enableCompileCache === 'function';
const run = promisify(execFile);

let home: string;
let env: Record<string, string>;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'opsctl-compile-cache-'));
  const { NODE_COMPILE_CACHE: _, NODE_DISABLE_COMPILE_CACHE: __, ...rest } = process.env as Record<string, string>;
  env = { ...rest, XDG_CACHE_HOME: join(home, 'cache') };
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const outcome = async (extra: Record<string, string> = {}) =>
  (
    await run(process.execPath, ['-e', `import(process.argv[1]).then((m) => console.log(m.enableCompileCache(process.env)))`, MODULE], {
      env: { ...env, ...extra },
    })
  ).stdout.trim();

describe('compileCacheDir', () => {
  it('is under XDG_CACHE_HOME when absolute, else under ~/.cache', () => {
    expect(compileCacheDir({ XDG_CACHE_HOME: '/c', HOME: '/h' })).toBe('/c/opsctl/compile-cache');
    expect(compileCacheDir({ XDG_CACHE_HOME: 'relative', HOME: '/h' })).toBe('/h/.cache/opsctl/compile-cache');
  });
});

describe.runIf(supported)('enableCompileCache on Node 22.1+', () => {
  it('keeps compiled code in a 0700 directory of the user, filled by a run and used by the next', async () => {
    await run(process.execPath, [BIN, 'heapdump', '--help'], { env });
    const dir = compileCacheDir(env);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const entries = readdirSync(dir, { recursive: true });
    expect(entries.length).toBeGreaterThan(1);
    const { stdout, stderr } = await run(process.execPath, [BIN, 'heapdump', '--help'], { env: { ...env, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' } });
    expect(stdout).toContain('opsctl heapdump');
    expect(stderr).toMatch(/V8 code cache for ESM \S+\/main\.js was accepted/);
  });

  it('does not use a directory that others can write', async () => {
    const dir = compileCacheDir(env);
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    expect(await outcome()).toBe('unsafe');
    expect(readdirSync(dir)).toEqual([]);
  });

  it.runIf(process.getuid?.() === 0)("makes nothing in another user's directory (sudo keeping the user's HOME)", async () => {
    const cache = join(home, 'cache');
    mkdirSync(cache);
    chownSync(cache, 65534, 65534);
    expect(await outcome()).toBe('unsafe');
    expect(readdirSync(cache)).toEqual([]);
  });

  it("leaves the user's own NODE_COMPILE_CACHE or NODE_DISABLE_COMPILE_CACHE to Node", async () => {
    expect(await outcome({ NODE_DISABLE_COMPILE_CACHE: '1' })).toBe('user-setting');
    expect(existsSync(compileCacheDir(env))).toBe(false);
  });

  it('runs without a cache when the directory cannot be made', async () => {
    mkdirSync(join(home, 'cache'), { recursive: true });
    chmodSync(join(home, 'cache'), 0o500);
    const expected = process.getuid?.() === 0 ? 'enabled' : 'unavailable'; // root writes anyway
    expect(await outcome()).toBe(expected);
  });
});

describe.skipIf(supported)('enableCompileCache on Node 20', () => {
  it('does nothing: no directory is made', async () => {
    expect(await outcome()).toBe('unsupported');
    expect(existsSync(compileCacheDir(env))).toBe(false);
  });
});
