// Run after tsc in packages/cli: replaces dist/endpoint/*.js, which re-export
// @opsctl/endpoint's protocol and tokens modules (src/endpoint/), with those modules' own
// code, so the opsctl tarball needs no @opsctl/endpoint at run time (the reasons are in
// docs/install.md#why-the-cli-does-not-depend-on-the-endpoint). esbuild resolves the
// subpaths through the endpoint's package.json exports, wherever they point.
// Then checks that no other file of dist/ imports the package directly.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const dir = join('dist', 'endpoint');
const entryPoints = readdirSync(dir)
  .filter((name) => name.endsWith('.js'))
  .map((name) => join(dir, name));
await build({
  entryPoints,
  outdir: dir,
  allowOverwrite: true,
  bundle: true,
  splitting: true, // tokens.js imports the protocol: one shared copy
  format: 'esm',
  platform: 'node',
  target: 'node20.18',
  chunkNames: 'shared-[hash]',
  logLevel: 'warning',
});

const direct = readdirSync('dist', { recursive: true })
  .filter((path) => path.endsWith('.js'))
  .filter((path) => /(?:from|import\()\s*["']@opsctl\/endpoint(?:\/[^"']*)?["']/.test(readFileSync(join('dist', path), 'utf8')));
if (direct.length > 0) {
  console.error(
    `${direct.join(', ')} import @opsctl/endpoint, which the installed CLI does not have: import its protocol through packages/cli/src/endpoint/ instead.`,
  );
  process.exit(1);
}
