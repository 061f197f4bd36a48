// `pnpm check:packages` (part of `pnpm test`): packs each package as it would be
// published (pnpm pack: workspace: ranges become versions) and runs publint and
// @arethetypeswrong/cli on the tarballs; any problem fails. Needs `pnpm build` first.
// Each package lists what it ships and why in docs/install.md#what-the-tarballs-hold.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const root = new URL('..', import.meta.url).pathname;
const packages = ['packages/endpoint', 'packages/cli'];

// attw's findings that are intended, each with its reason; any other fails.
const ACCEPTED = [
  // The preload is for `node --import` (which CommonJS applications use too): it awaits
  // the endpoint's listen() at its top level, so there is no CommonJS build of it.
  { package: '@opsctl/endpoint', entrypoint: './register', kind: 'CJSResolvesToESM' },
];

const out = mkdtempSync(join(tmpdir(), 'opsctl-pack-'));
let failed = false;
try {
  for (const dir of packages) {
    execFileSync('pnpm', ['pack', '--pack-destination', out], { cwd: join(root, dir), stdio: ['ignore', 'ignore', 'inherit'] });
  }
  for (const tarball of readdirSync(out)
    .filter((name) => name.endsWith('.tgz'))
    .map((name) => join(out, name))) {
    const bytes = readFileSync(tarball);
    const { messages, pkg } = await publint({
      pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) },
      level: 'suggestion',
      strict: true,
    });
    for (const message of messages) console.error(`publint ${pkg.name}: ${message.type}: ${formatMessage(message, pkg)}`);
    failed ||= messages.length > 0;

    // Only dist/ and package.json: no tests, test support, sources or maps.
    const shipped = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
    const stray = shipped.filter((path) => !/^package\/(package\.json|dist\/.+)$/.test(path) || /\.map$|\.test\.|test-support/.test(path));
    for (const path of stray) console.error(`${pkg.name} ships ${path}`);
    failed ||= stray.length > 0;

    // Checked: moduleResolution node16/nodenext (CommonJS and ESM) and bundler; not node10,
    // which knows no exports map (TypeScript 7 dropped it) and so no subpath (attw's
    // profile node16; its JSON lists every finding whatever the profile). attw exits 1
    // on any problem, the accepted ones too: its JSON report decides.
    const run = spawnSync(join(root, 'node_modules/.bin/attw'), [tarball, '--format', 'json', '--no-definitely-typed', '--profile', 'node16'], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    if (run.error || !run.stdout.trim().startsWith('{')) throw new Error(`attw did not report on ${tarball}: ${run.error?.message ?? run.stderr}`);
    const attw = JSON.parse(run.stdout);
    // A package without types at all (the CLI: a program, not a library) has no analysis.
    const problems = (attw.analysis?.problems ?? []).filter(
      (problem) =>
        problem.resolutionKind !== 'node10' &&
        !ACCEPTED.some((ok) => ok.package === pkg.name && ok.entrypoint === problem.entrypoint && ok.kind === problem.kind),
    );
    for (const problem of problems) console.error(`attw ${pkg.name}: ${problem.kind} at ${problem.entrypoint ?? ''} (${problem.resolutionKind ?? ''})`);
    failed ||= problems.length > 0;
    console.log(
      `${pkg.name}@${pkg.version}: ${shipped.length} files, publint ${messages.length === 0 ? 'clean' : `${messages.length} message(s)`}, attw ${problems.length === 0 ? 'clean' : `${problems.length} problem(s)`}`,
    );
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
