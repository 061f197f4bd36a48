// The CommonJS build of @opsctl/endpoint, run after tsc in packages/endpoint: every ESM
// module of dist/ is transformed on its own (no bundling: file names, the worker thread's
// sibling file and the subpath exports stay the same) into dist/cjs/, next to a copy of
// its declarations, under a package.json that makes both CommonJS. Node 20.18 cannot
// require() an ES module (that came with 20.19 and 22.12), so a CommonJS application
// needs these real CommonJS files (docs/install.md).
//
// Every file is converted, whatever package.json exports: moving a module (such as
// protocol.ts into protocol/index.ts) changes only its line in the exports map.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { transformSync } from 'esbuild';

const dist = 'dist';
const out = join(dist, 'cjs');

/** Files under `dir`, relative to it, skipping the CommonJS output itself. */
function files(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .filter((path) => !path.startsWith(`cjs/`) && !path.startsWith('cjs\\'));
}

// Two modules await at their top level, which CommonJS cannot express. register.js, the
// `--import` preload, stays ESM only (package.json exports it without a "require"
// condition; --import preloads CommonJS applications as well). The endpoint's thread
// (thread-host.ts starts ./endpoint-thread.js beside itself) gets a CommonJS file that
// loads the ESM one: a worker has a module graph of its own, so nothing is shared twice.
const ESM_ONLY = new Set(['register.js', 'register.d.ts']);
const ESM_LOADED = new Set(['thread/endpoint-thread.js']);

const failures = [];
for (const path of files(dist)) {
  if (ESM_ONLY.has(path)) continue;
  const target = join(out, path);
  mkdirSync(dirname(target), { recursive: true });
  const source = readFileSync(join(dist, path), 'utf8');
  if (path.endsWith('.d.ts')) {
    writeFileSync(target, source);
    continue;
  }
  if (!path.endsWith('.js')) continue;
  if (ESM_LOADED.has(path)) {
    const esm = relative(dirname(target), join(dist, path)).split('\\').join('/');
    writeFileSync(target, `'use strict';\n// The ESM module (top-level await): scripts/build-cjs.mjs.\nvoid import(${JSON.stringify(esm)});\n`);
    continue;
  }
  // import.meta.url (the worker thread's file, the REPL's stack trimming) becomes the
  // CommonJS module's own file URL.
  const usesMeta = source.includes('import.meta');
  try {
    const { code } = transformSync(source, {
      format: 'cjs',
      platform: 'node',
      target: 'node20.18',
      sourcefile: path,
      ...(usesMeta
        ? { define: { 'import.meta.url': '__opsctlModuleUrl' }, banner: 'const __opsctlModuleUrl = require("node:url").pathToFileURL(__filename).href;' }
        : {}),
    });
    if (code.includes('import.meta')) failures.push(`${path}: import.meta other than import.meta.url has no CommonJS equivalent here`);
    writeFileSync(target, code);
  } catch (error) {
    failures.push(`${path}: ${error.message}`);
  }
}
writeFileSync(join(out, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
if (failures.length > 0) {
  console.error(`CommonJS build failed:\n${failures.join('\n')}`);
  process.exit(1);
}
