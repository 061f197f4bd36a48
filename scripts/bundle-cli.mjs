// Run after tsc in packages/cli (which compiles src/ into build/): bundles the program into
// dist/, what the tarball ships and `opsctl` runs. Why (docs/install.md#how-the-cli-is-built):
//   - start-up: the 175 modules `opsctl heapdump` loaded before its request (53 of ours,
//     111 of undici's, commander's, chalk's) become about a dozen files; each module cost
//     a lookup, a read and a compile before the request could leave;
//   - the endpoint's protocol and token functions come in with the rest, so the tarball
//     installs without @opsctl/endpoint (docs/install.md#why-the-cli-does-not-depend-on-the-endpoint).
// Each command's run function stays in chunks of its own (splitting): `opsctl --help`
// loads commander and the flags, not the HTTP client. keytar stays outside: it is native
// and optional. The reader thread's script is an entry of its own, beside the chunks,
// where heapsnapshot/thread-read.ts looks for it.
// Writes dist/THIRD-PARTY-LICENSES.txt (the bundled packages' licence texts) and
// build/bundle-meta.json (which chunk holds which package, for test/support/processes.ts).
import { chmodSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';

/** Not bundled: native code built at install time, and optional (src/credentials/). */
const EXTERNAL = ['keytar'];

rmSync('dist', { recursive: true, force: true });
const result = await build({
  entryPoints: { bin: 'build/bin.js', 'reader-thread': 'build/heapsnapshot/reader-thread.js' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.18',
  external: EXTERNAL,
  // undici is CommonJS: its require() of node: builtins needs a require in an ES module.
  banner: { js: "import { createRequire as __opsctlCreateRequire } from 'node:module';\nconst require = __opsctlCreateRequire(import.meta.url);" },
  chunkNames: 'chunk-[hash]',
  legalComments: 'none', // the licences are in THIRD-PARTY-LICENSES.txt, whole
  metafile: true,
  logLevel: 'warning',
});
chmodSync('dist/bin.js', 0o755);

// Every import left in dist/ is a builtin, keytar, or a chunk of dist/ itself. (`node:`
// alone marks a builtin: node:sqlite, which undici's cache store loads when used, is one
// Node 20 does not have.)
const builtins = new Set(builtinModules);
const isBuiltin = (path) => path.startsWith('node:') || builtins.has(path);
const stray = Object.entries(result.metafile.outputs).flatMap(([file, output]) =>
  output.imports.filter((i) => i.external && !isBuiltin(i.path) && !EXTERNAL.includes(i.path)).map((i) => `${file} imports ${i.path}`),
);
if (stray.length > 0) {
  console.error(`${stray.join(', ')}: the installed CLI would not find it; bundle it or list it in EXTERNAL (scripts/bundle-cli.mjs).`);
  process.exit(1);
}

// Which package each output holds (from its inputs' paths), for the start-up test.
const packageOf = (input) => /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(input)?.[1] ?? null;
const packagesIn = Object.fromEntries(
  Object.entries(result.metafile.outputs).map(([file, output]) => [
    file.replace(/^dist\//, ''),
    [...new Set(Object.keys(output.inputs).map(packageOf).filter(Boolean))].sort(),
  ]),
);
writeFileSync('build/bundle-meta.json', `${JSON.stringify({ packagesIn }, null, 2)}\n`);

// The licence text of every bundled package, as their licences ask of a copy.
const packageDirs = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const name = packageOf(input);
  if (name === null || name === '@opsctl/endpoint') continue; // ours, the same licence
  const dir = input.slice(0, input.lastIndexOf(`node_modules/${name}/`) + `node_modules/${name}`.length);
  packageDirs.set(name, dir);
}
const notices = [...packageDirs]
  .sort(([a], [b]) => a.localeCompare(b))
  .map(([name, dir]) => {
    const { version, license } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const file = readdirSync(dir).find((entry) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(entry));
    if (file === undefined) throw new Error(`${name} (${dir}) has no licence file to ship with its bundled code`);
    return `${name}@${version} (${license})\n\n${readFileSync(join(dir, file), 'utf8').trim()}\n`;
  });
writeFileSync(
  'dist/THIRD-PARTY-LICENSES.txt',
  `opsctl's dist/ bundles the code of these packages; their licences follow.\n\n${notices.join(`\n${'-'.repeat(72)}\n\n`)}`,
);
