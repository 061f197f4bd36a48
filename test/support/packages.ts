// The packages as a user receives them: tarballs packed from the built workspace, and
// the npm CLI run as a user runs it (docs/install.md).
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './processes.js';

const run = promisify(execFile);

/** Packs both packages into `dir` with pnpm (workspace: ranges become versions); returns the tarballs. */
export async function packTarballs(dir: string): Promise<{ endpoint: string; cli: string }> {
  for (const pkg of ['endpoint', 'cli']) await run('pnpm', ['pack', '--pack-destination', dir], { cwd: join(repoRoot, 'packages', pkg) });
  const tarball = (prefix: string) => {
    const name = readdirSync(dir).find((file) => file.startsWith(prefix) && file.endsWith('.tgz'));
    if (name === undefined) throw new Error(`pnpm pack left no ${prefix}*.tgz in ${dir}`);
    return join(dir, name);
  };
  return { endpoint: tarball('opsctl-endpoint-'), cli: tarball('opsctl-0') };
}

/**
 * The environment of a user's shell: without the npm_* variables that pnpm and vitest's
 * parents set (npm reads npm_config_* as its own configuration), with `node` on PATH
 * being the Node that runs the tests, and `extraPath` first.
 */
export function userEnv(extraPath: string[] = []): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  const nodeDir = join(process.execPath, '..');
  return { ...env, PATH: [...extraPath, nodeDir, process.env['PATH']].join(':') };
}

/** Runs npm with `args` in `cwd` as a user would (the user's npmrc, the registry). */
export async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run('npm', ['--no-audit', '--no-fund', ...args], { cwd, env: userEnv(), maxBuffer: 16 << 20 });
  return stdout;
}
