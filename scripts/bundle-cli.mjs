// Run after tsc in packages/cli (which compiles src/ into build/): bundles the program into
// dist/, what the tarball ships and `opsctl` runs. Why (docs/install.md#how-the-cli-is-built):
//   - start-up: the 175 modules `opsctl heapdump` loaded before its request (53 of ours,
//     111 of undici's, commander's, chalk's) become about twenty files; each module cost
//     a lookup, a read and a compile before the request could leave;
//   - the endpoint's protocol and token functions come in with the rest, so the tarball
//     installs without @opsctl/endpoint (docs/install.md#why-the-cli-does-not-depend-on-the-endpoint).
// Each command's run function stays in chunks of its own (splitting): `opsctl --help`
// loads commander and the flags, not the HTTP client. keytar stays outside: it is native
// and optional. The reader thread's script is an entry of its own, beside the chunks,
// where heapsnapshot/thread-read.ts looks for it. bin.js is built on its own, with no
// static import but builtins: it turns Node's compile cache on before any chunk loads.
// Writes dist/THIRD-PARTY-LICENSES.txt (the bundled packages' licence texts),
// dist/sbom.cdx.json (the same packages as a CycloneDX SBOM, which scanners such as
// Trivy or Grype read to match advisories against the bundled versions) and
// build/bundle-meta.json (which chunk holds which package, for test/support/processes.ts).
import { chmodSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';

/** Not bundled: native code built at install time, and optional (src/credentials/). */
const EXTERNAL = ['keytar'];
/** What bin.js loads, by dynamic import, once the compile cache is on. */
const AFTER_CACHE = ['./main.js', './version.js'];

const common = { outdir: 'dist', bundle: true, format: 'esm', platform: 'node', target: 'node20.18', metafile: true, logLevel: 'warning' };
rmSync('dist', { recursive: true, force: true });
const program = await build({
  ...common,
  entryPoints: { main: 'build/main.js', version: 'build/version.js', 'reader-thread': 'build/heapsnapshot/reader-thread.js' },
  splitting: true,
  external: EXTERNAL,
  // undici is CommonJS: its require() of node: builtins needs a require in an ES module.
  banner: { js: "import { createRequire as __opsctlCreateRequire } from 'node:module';\nconst require = __opsctlCreateRequire(import.meta.url);" },
  chunkNames: 'chunk-[hash]',
  legalComments: 'none', // the licences are in THIRD-PARTY-LICENSES.txt, whole
});
const entry = await build({ ...common, entryPoints: { bin: 'build/bin.js' }, external: AFTER_CACHE });
chmodSync('dist/bin.js', 0o755);
const outputs = { ...program.metafile.outputs, ...entry.metafile.outputs };
const inputs = { ...program.metafile.inputs, ...entry.metafile.inputs };

const binImports = entry.metafile.outputs['dist/bin.js'].imports;
const early = binImports.filter((i) => i.kind === 'import-statement' && !i.path.startsWith('node:'));
if (early.length > 0 || !AFTER_CACHE.every((path) => binImports.some((i) => i.path === path && i.kind === 'dynamic-import'))) {
  console.error(
    `dist/bin.js must import builtins only before it turns the compile cache on, then ${AFTER_CACHE.join(' and ')}; it imports ${binImports.map((i) => `${i.path} (${i.kind})`).join(', ')}.`,
  );
  process.exit(1);
}

// Every import left in dist/ is a builtin, keytar, or a chunk of dist/ itself. (`node:`
// alone marks a builtin: node:sqlite, which undici's runtime-feature check may load, is
// one Node 20 does not have.)
const builtins = new Set(builtinModules);
const isBuiltin = (path) => path.startsWith('node:') || builtins.has(path);
const stray = Object.entries(outputs).flatMap(([file, output]) =>
  output.imports
    .filter((i) => i.external && !isBuiltin(i.path) && !EXTERNAL.includes(i.path) && !(file === 'dist/bin.js' && AFTER_CACHE.includes(i.path)))
    .map((i) => `${file} imports ${i.path}`),
);
if (stray.length > 0) {
  console.error(`${stray.join(', ')}: the installed CLI would not find it; bundle it or list it in EXTERNAL (scripts/bundle-cli.mjs).`);
  process.exit(1);
}

// Which package each output holds (from its inputs' paths), for the start-up test.
const packageOf = (input) => /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(input)?.[1] ?? null;
const packagesIn = Object.fromEntries(
  Object.entries(outputs).map(([file, output]) => [
    file.replace(/^dist\//, ''),
    [...new Set(Object.keys(output.inputs).map(packageOf).filter(Boolean))].sort(),
  ]),
);
writeFileSync('build/bundle-meta.json', `${JSON.stringify({ packagesIn }, null, 2)}\n`);

// The licence text of every bundled package, as their licences ask of a copy; one entry
// per package directory, so two versions of one package would both be listed.
const packageDirs = new Set();
for (const input of Object.keys(inputs)) {
  const name = packageOf(input);
  if (name === null) continue;
  packageDirs.add(input.slice(0, input.lastIndexOf(`node_modules/${name}/`) + `node_modules/${name}`.length));
}
const bundled = [...packageDirs]
  .map((dir) => {
    const { name, version, license } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    if (typeof license !== 'string') throw new Error(`${name}@${version} (${dir}) names no licence (an SPDX expression) in its package.json`);
    const file = readdirSync(dir).find((entry) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(entry));
    if (file === undefined) throw new Error(`${name} (${dir}) has no licence file to ship with its bundled code`);
    return { name, version, license, text: readFileSync(join(dir, file), 'utf8').trim() };
  })
  .sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
// undici carries llhttp, compiled to WebAssembly, and no licence file of llhttp's own.
const EMBEDDED = { undici: 'It embeds llhttp (https://github.com/nodejs/llhttp), MIT, Copyright Fedor Indutny, 2018, compiled to WebAssembly.' };
writeFileSync(
  'dist/THIRD-PARTY-LICENSES.txt',
  `opsctl's dist/ bundles the code of these packages; their licences follow.\n\n${bundled
    .map((p) => `${p.name}@${p.version} (${p.license})\n${EMBEDDED[p.name] ? `${EMBEDDED[p.name]}\n` : ''}\n${p.text}\n`)
    .join(`\n${'-'.repeat(72)}\n\n`)}`,
);
const cli = JSON.parse(readFileSync('package.json', 'utf8'));
const purl = (p) => `pkg:npm/${p.name.replace(/^@/, '%40')}@${p.version}`;
writeFileSync(
  'dist/sbom.cdx.json',
  `${JSON.stringify(
    {
      bomFormat: 'CycloneDX',
      specVersion: '1.5',
      version: 1,
      metadata: { component: { type: 'application', name: cli.name, version: cli.version, purl: purl(cli) } },
      components: bundled.map((p) => ({ type: 'library', name: p.name, version: p.version, purl: purl(p), licenses: [{ expression: p.license }] })),
    },
    null,
    2,
  )}\n`,
);
