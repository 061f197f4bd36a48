// Node 22.1+ can keep the code it compiled for opsctl's modules on disk, so that the next
// run skips compiling them: a start of 0.24 s instead of 0.28 s on Node 24, time that
// `opsctl heapdump` spends before the snapshot even begins (docs/operations.md#targets-and-credentials).
//
// Cached code is run as is, so the directory must be writable by this user alone: a
// directory that someone else could write is not used (they could plant code there).
import { lstatSync, mkdirSync, type Stats, statSync } from 'node:fs';
import module from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export type CompileCacheOutcome = 'enabled' | 'unsupported' | 'user-setting' | 'unsafe' | 'unavailable';

/** What Node 22.1+ adds to node:module (the repository's types are Node 20's). */
interface ModuleWithCompileCache {
  enableCompileCache?: (dir: string) => { status: number };
  constants?: { compileCacheStatus?: { FAILED: number } };
}

/** $XDG_CACHE_HOME/opsctl/compile-cache, else ~/.cache/opsctl/compile-cache. */
export function compileCacheDir(env: Record<string, string | undefined>): string {
  const xdg = env['XDG_CACHE_HOME'];
  return join(xdg?.startsWith('/') ? xdg : join(env['HOME'] ?? homedir(), '.cache'), 'opsctl', 'compile-cache');
}

/** Turns Node's compile cache on for the modules loaded from now on, where that is safe. */
export function enableCompileCache(env: Record<string, string | undefined>): CompileCacheOutcome {
  const node = module as unknown as ModuleWithCompileCache;
  if (typeof node.enableCompileCache !== 'function') return 'unsupported'; // Node 20
  // The user's own choice wins: off, or a cache directory of their own (already enabled).
  if (env['NODE_DISABLE_COMPILE_CACHE'] || env['NODE_COMPILE_CACHE']) return 'user-setting';
  const dir = compileCacheDir(env);
  const uid = process.getuid?.();
  try {
    // Nothing is made in someone else's directory: `sudo` keeping the user's HOME would
    // otherwise leave a root-owned cache there, which the user could no longer use.
    if (uid !== undefined && nearestExisting(dir).uid !== uid) return 'unsafe';
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = lstatSync(dir);
    if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o022) !== 0) return 'unsafe';
    // Failures (a full disk, a read-only home) are reported in the result, never thrown.
    return node.enableCompileCache(dir).status === node.constants?.compileCacheStatus?.FAILED ? 'unavailable' : 'enabled';
  } catch {
    return 'unavailable';
  }
}

/** `path` itself if it exists, else its nearest ancestor that does (symbolic links followed). */
function nearestExisting(path: string): Stats {
  for (let at = path; ; at = dirname(at)) {
    try {
      return statSync(at);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(at) === at) throw error;
    }
  }
}
