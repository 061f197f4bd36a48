// pnpm bench:heapdiff — opsctl heapdiff against memlab on the same pair of snapshots, for
// heaps of about 100 and 300 MB (BENCH_HEAP_MB=100,300 to choose). Both compare A and B
// per class (opsctl: the built binary, --json; memlab: its heap parser, then a count and
// self size per constructor name). Each run is a fresh process: wall time, and peak RSS
// (VmHWM, polled from /proc; Linux only).
// Snapshots and memlab are cached under $TMPDIR/opsctl-bench-heapdiff and reused. memlab is
// not a project dependency: it is installed there on first use, without the browser its
// puppeteer dependency would download.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const sizes = (process.env.BENCH_HEAP_MB ?? '100,300').split(',').map(Number);
const cache = join(tmpdir(), 'opsctl-bench-heapdiff');
const memlabDir = join(cache, 'memlab');
const opsctl = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));
const generator = fileURLToPath(new URL('./heapdiff-heap.mjs', import.meta.url));
// memlab keeps the whole snapshot in memory: give it room rather than measure an OOM.
const MEMLAB_HEAP_MB = 16_384;
const POLL_MS = 20;

// The same question opsctl answers: count and self size per class, B minus A. Classes as
// opsctl and DevTools name them: objects by constructor, other nodes by type.
const MEMLAB_DIFF = `const { getFullHeapFromFile } = require('@memlab/heap-analysis');
const census = async (file) => {
  const heap = await getFullHeapFromFile(file);
  const groups = new Map();
  heap.nodes.forEach((node) => {
    if (node.self_size === 0) return;
    const name = node.type === 'object' || node.type === 'native' ? node.name : '(' + node.type + ')';
    const group = groups.get(name) ?? { count: 0, size: 0 };
    group.count++;
    group.size += node.self_size;
    groups.set(name, group);
  });
  return groups;
};
(async () => {
  const a = await census(process.argv[2]);
  const b = await census(process.argv[3]);
  const rows = [...b].map(([name, g]) => ({ name, sizeDelta: g.size - (a.get(name)?.size ?? 0), countDelta: g.count - (a.get(name)?.count ?? 0) }));
  rows.sort((x, y) => y.sizeDelta - x.sizeDelta);
  console.log(JSON.stringify(rows.slice(0, 20)));
})();
`;

const mb = (bytes) => `${Math.round(bytes / 2 ** 20).toLocaleString('en-US')} MB`;

/** Runs a process to its end: wall time, peak RSS, stdout. */
function measure(args) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let peak = 0;
    const poll = () => {
      try {
        peak = Math.max(peak, Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024);
      } catch {
        // exited between two polls
      }
    };
    const timer = setInterval(poll, POLL_MS);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('close', (code, signal) => {
      clearInterval(timer);
      const wallMs = performance.now() - started;
      if (code === 0) resolve({ wallMs, peak, stdout });
      else reject(new Error(`${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').slice(-3).join(' ')}`));
    });
    child.once('error', reject);
  });
}

/** The snapshot pair for a heap size, generated once (one at a time: each needs ~10x its heap). */
function snapshots(heapMB) {
  const dir = join(cache, `heap-${heapMB}`);
  if (!existsSync(dir)) {
    const partial = `${dir}.partial`;
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    console.log(`generating snapshots of a ${heapMB} MB heap in ${dir} (once)…`);
    const run = spawnSync(process.execPath, ['--max-old-space-size=8192', generator, partial, String(heapMB), String(Math.round(heapMB / 5))], { stdio: ['ignore', 'pipe', 'inherit'] });
    if (run.status !== 0) throw new Error(`generating the ${heapMB} MB snapshots failed`);
    writeFileSync(join(partial, 'heap.json'), run.stdout);
    renameSync(partial, dir);
  }
  return { a: join(dir, 'a.heapsnapshot'), b: join(dir, 'b.heapsnapshot'), heap: JSON.parse(readFileSync(join(dir, 'heap.json'), 'utf8')) };
}

/** The path of the memlab diff script, installing memlab on first use; null (and why) if that fails. */
function memlab() {
  if (!existsSync(join(memlabDir, 'node_modules', '@memlab', 'heap-analysis'))) {
    console.log(`installing memlab@2 into ${memlabDir} (once)…`);
    mkdirSync(memlabDir, { recursive: true });
    const install = spawnSync('npm', ['install', '--prefix', memlabDir, '--no-audit', '--no-fund', 'memlab@2'], {
      env: { ...process.env, PUPPETEER_SKIP_DOWNLOAD: '1' },
      encoding: 'utf8',
    });
    if (install.status !== 0) {
      const why = install.error?.message ?? install.stderr.trim().split('\n').slice(-2).join(' ');
      console.log(`memlab could not be installed (${why}); measuring opsctl only`);
      return null;
    }
  }
  const script = join(memlabDir, 'diff.cjs');
  writeFileSync(script, MEMLAB_DIFF);
  return script;
}

if (!existsSync(opsctl)) throw new Error(`${opsctl} is missing: run pnpm --filter opsctl run build`);
mkdirSync(cache, { recursive: true });
const memlabScript = memlab();
const memlabVersion = memlabScript && JSON.parse(readFileSync(join(memlabDir, 'node_modules', 'memlab', 'package.json'), 'utf8')).version;

const pairs = sizes.map(snapshots);

console.log(`\nNode ${process.version}; one fresh process per run; peak RSS is VmHWM\n`);
console.log('heap A → B         files (A + B)      tool                 wall   peak RSS   top class (objects)');
for (const { a, b, heap } of pairs) {
  const heapText = `${mb(heap.heapA)} → ${mb(heap.heapB)}`.padEnd(18);
  const filesText = `${mb(statSync(a).size)} + ${mb(statSync(b).size)}`.padEnd(18);
  const row = (label, r, top) => `${label.padEnd(20)} ${`${(r.wallMs / 1000).toFixed(1)} s`.padStart(7)} ${mb(r.peak).padStart(10)}   ${top.name} (+${top.countDelta.toLocaleString('en-US')})`;

  const o = await measure([opsctl, 'heapdiff', a, b, '--json']);
  console.log(`${heapText} ${filesText} ${row('opsctl heapdiff', o, JSON.parse(o.stdout).classes[0])}`);
  if (memlabScript === null) continue;
  let m;
  try {
    m = await measure([`--max-old-space-size=${MEMLAB_HEAP_MB}`, memlabScript, a, b]);
  } catch (error) {
    console.log(`${''.padEnd(37)} memlab failed: ${error.message}`);
    continue;
  }
  console.log(`${''.padEnd(37)} ${row(`memlab ${memlabVersion}`, m, JSON.parse(m.stdout.trim().split('\n').at(-1))[0])}`);
  console.log(`${''.padEnd(37)} ${'memlab ÷ opsctl'.padEnd(20)} ${`${(m.wallMs / o.wallMs).toFixed(1)}x`.padStart(7)} ${`${(m.peak / o.peak).toFixed(1)}x`.padStart(10)}`);
}
