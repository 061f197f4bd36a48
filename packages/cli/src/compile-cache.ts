// Node 22.1+ can keep the code it compiled for opsctl's modules on disk, so that the next
// run skips compiling them: a start of 0.24 s instead of 0.28 s on Node 24, time that
// `opsctl heapdump` spends before the snapshot even begins (docs/operations.md#the-clis-compile-cache).
//
// Node runs cached code as it is, and the CLI holds tokens to production processes: the
// cache is used only where nobody else can put a file or swap a directory. Node opens
// the directory again for every module, so every directory on its real path is checked,
// and Node is given that path, with no symbolic link left in it to swap.
import { chmodSync, lstatSync, mkdirSync, realpathSync, statfsSync, statSync } from 'node:fs';
import module from 'node:module';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';

export type CompileCacheOutcome = 'enabled' | 'unsupported' | 'user-setting' | 'unsafe' | 'unavailable';

/** What Node 22.1+ adds to node:module (the repository's types are Node 20's). */
interface ModuleWithCompileCache {
  enableCompileCache?: (dir: string) => { status: number };
  constants?: { compileCacheStatus?: { FAILED: number } };
}

/** Below this much free space, no cache: Node leaves a temp file per module behind on a full disk. */
const MIN_FREE_BYTES = 64 * 1024 * 1024;
const STICKY = 0o1000;
const WRITABLE_BY_OTHERS = 0o022;

/**
 * The cache directory, and the existing directory of the user's it goes under:
 * $XDG_CACHE_HOME/opsctl/compile-cache, else $HOME/.cache/opsctl/compile-cache. Null
 * without an absolute base (an empty HOME would put it in the current directory).
 */
export function compileCacheDir(env: Record<string, string | undefined>): { dir: string; base: string } | null {
  const xdg = env['XDG_CACHE_HOME'];
  if (xdg !== undefined && isAbsolute(xdg)) return { dir: join(xdg, 'opsctl', 'compile-cache'), base: xdg };
  const home = env['HOME'] || homedir();
  return isAbsolute(home) ? { dir: join(home, '.cache', 'opsctl', 'compile-cache'), base: home } : null;
}

/** Turns Node's compile cache on for the modules loaded from now on, where that is safe. */
export function enableCompileCache(env: Record<string, string | undefined>): CompileCacheOutcome {
  const node = module as unknown as ModuleWithCompileCache;
  if (typeof node.enableCompileCache !== 'function') return 'unsupported'; // Node 20
  // The user's own choice wins: off, or a cache directory of their own (already enabled).
  if (env['NODE_DISABLE_COMPILE_CACHE'] || env['NODE_COMPILE_CACHE']) return 'user-setting';
  const uid = process.geteuid?.();
  if (uid === undefined) return 'unavailable'; // Windows: no owners to check
  // Set-uid or set-gid: whoever ran it could have planted the code that would then run with these rights.
  if (uid !== process.getuid?.() || process.getegid?.() !== process.getgid?.()) return 'unsafe';
  try {
    const where = compileCacheDir(env); // homedir() throws for a uid with no passwd entry
    if (where === null) return 'unavailable';
    // Only under an existing directory of the user's own: a missing HOME is not made (as
    // root, /nonexistent would be), and `sudo` keeping the user's HOME does not leave a
    // root-owned cache there that the user could no longer use.
    if (statSync(where.base).uid !== uid) return 'unsafe';
    // Nothing is made where someone else could swap it, nor used from there once made.
    if (!onlyOwnerCanChange(realpathSync(nearestExisting(where.dir)), uid)) return 'unsafe';
    mkdirSync(where.dir, { recursive: true, mode: 0o700 });
    const real = realpathSync(where.dir);
    if (lstatSync(real).uid !== uid || !onlyOwnerCanChange(real, uid)) return 'unsafe';
    // Closed to everyone else (0700 also empties an ACL's mask): Node makes a directory per
    // Node version inside with the umask and any default ACL, and never checks it.
    chmodSync(real, 0o700);
    if ((lstatSync(real).mode & 0o077) !== 0) return 'unsafe';
    const disk = statfsSync(real);
    if (disk.bavail * disk.bsize < MIN_FREE_BYTES) return 'unavailable';
    // Other failures (a read-only home) are reported in the result, never thrown.
    return node.enableCompileCache(real).status === node.constants?.compileCacheStatus?.FAILED ? 'unavailable' : 'enabled';
  } catch {
    return 'unavailable';
  }
}

/**
 * Whether nobody but `uid` and root can change what `real` (a path with no symbolic link
 * in it) leads to: it and every directory above it are theirs, and none can be written by
 * others, except a sticky one (/tmp), where others cannot move what is not theirs.
 */
function onlyOwnerCanChange(real: string, uid: number): boolean {
  for (let at = real; ; at = dirname(at)) {
    const stat = lstatSync(at);
    if (!stat.isDirectory() || (stat.uid !== uid && stat.uid !== 0)) return false;
    if ((stat.mode & WRITABLE_BY_OTHERS) !== 0 && (stat.mode & STICKY) === 0) return false;
    if (dirname(at) === at) return true;
  }
}

/** `path` itself if it exists, else its nearest ancestor that does. */
function nearestExisting(path: string): string {
  for (let at = path; ; at = dirname(at)) {
    try {
      statSync(at);
      return at;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(at) === at) throw error;
    }
  }
}
