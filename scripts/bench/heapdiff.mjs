// pnpm bench:heapdiff — opsctl heapdiff against memlab on the same snapshots, for heaps of
// about 100 and 300 MB (BENCH_HEAP_MB=100,300 to choose). Per heap size, three runs
// (BENCH_RUNS=class,pair,three to choose):
//   class diff  A → B per class, no retainers: opsctl heapdiff A B --retainers 0 against
//               memlab's heap parser and a count and self size per constructor name
//   pair        who holds what is new in B: opsctl heapdiff A B against memlab's leak
//               detection with A as baseline and B as target and final
//   3 snapshots who holds what was allocated between A and B and is alive in C: opsctl
//               heapdiff A B C against memlab's leak detection (A, B, C)
// Each command runs BENCH_REPEAT times (default 3), one fresh process each: medians, with
// every run listed. memlab's leak detection is `memlab find-leaks --baseline --target --final
// --trace-all-objects` through its API (findLeaksBySnapshotFilePaths, with the config
// that option sets): without it memlab reports only browser leaks (detached DOM, React
// fibers), none in a Node heap. Each run is a fresh process: wall time, and peak RSS
// (VmHWM, polled from /proc; Linux only). The leak root each names: for opsctl the holder
// of the top path of each of its top classes; for memlab the last variable or property
// on each cluster's leak trace, up to the leaked object.
// Snapshots and memlab are cached under $TMPDIR/opsctl-bench-heapdiff and reused. memlab is
// not a project dependency: it is installed there on first use (npm), without the browser
// its puppeteer dependency would download.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const sizes = (process.env.BENCH_HEAP_MB ?? '100,300').split(',').map(Number);
const chosen = new Set((process.env.BENCH_RUNS ?? 'class,pair,three').split(','));
const repeat = Number(process.env.BENCH_REPEAT ?? 3);
const cache = join(tmpdir(), 'opsctl-bench-heapdiff');
const memlabDir = join(cache, 'memlab');
const opsctl = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));
const generator = fileURLToPath(new URL('./heapdiff-heap.mjs', import.meta.url));
// memlab keeps whole snapshots in memory: give it room rather than measure an OOM.
const MEMLAB_HEAP_MB = 16_384;
const POLL_MS = 20;

// The question opsctl's class diff answers: count and self size per class, B minus A.
// Classes as opsctl and DevTools name them: objects by constructor, other nodes by type.
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

// memlab find-leaks --trace-all-objects on three files, in a work directory of its own;
// prints the leak clusters memlab writes to data/out/leaks.txt, one JSON line.
const MEMLAB_LEAKS = `const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { config } = require('@memlab/core');
const { findLeaksBySnapshotFilePaths } = require('@memlab/api');
(async () => {
  const [baseline, target, final, workDir] = process.argv.slice(2);
  // What --trace-all-objects sets (packages/cli/src/options/heap/TraceAllObjectsOption.ts).
  config.oversizeObjectAsLeak = true;
  config.oversizeThreshold = 0;
  await findLeaksBySnapshotFilePaths(baseline, target, final, { consoleMode: 'SILENT', workDir });
  console.log(JSON.stringify(readFileSync(join(workDir, 'data', 'out', 'leaks.txt'), 'utf8')));
})();
`;

const mb = (bytes) => `${Math.round(bytes / 2 ** 20).toLocaleString('en-US')} MB`;
const load = () =>
  loadavg()
    .map((n) => n.toFixed(1))
    .join(' ');

/** Runs a process to its end: wall time, peak RSS, stdout, the load averages before and after. */
function measure(args) {
  return new Promise((resolve, reject) => {
    const loadBefore = load();
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
      if (code === 0) resolve({ wallMs, peak, stdout, load: `${loadBefore} → ${load()}` });
      else reject(new Error(`${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').slice(-3).join(' ')}`));
    });
    child.once('error', reject);
  });
}

/** The three snapshots for a heap size, generated once (one at a time: each needs ~10x its heap). */
function snapshots(heapMB) {
  const dir = join(cache, `abc-${heapMB}`);
  if (!existsSync(dir)) {
    const partial = `${dir}.partial`;
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    console.log(`generating snapshots of a ${heapMB} MB heap in ${dir} (once)…`);
    const run = spawnSync(process.execPath, ['--max-old-space-size=8192', generator, partial, String(heapMB), String(Math.round(heapMB / 5))], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (run.status !== 0) throw new Error(`generating the ${heapMB} MB snapshots failed`);
    writeFileSync(join(partial, 'heap.json'), run.stdout);
    renameSync(partial, dir);
  }
  const file = (name) => join(dir, `${name}.heapsnapshot`);
  return { heapMB, a: file('a'), b: file('b'), c: file('c'), heap: JSON.parse(readFileSync(join(dir, 'heap.json'), 'utf8')) };
}

/** Writes the memlab scripts, installing memlab on first use; null (and why) if that fails. */
function memlab() {
  if (!existsSync(join(memlabDir, 'node_modules', '@memlab', 'api'))) {
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
  const diff = join(memlabDir, 'diff.cjs');
  const leaks = join(memlabDir, 'leaks.cjs');
  writeFileSync(diff, MEMLAB_DIFF);
  writeFileSync(leaks, MEMLAB_LEAKS);
  const version = JSON.parse(readFileSync(join(memlabDir, 'node_modules', 'memlab', 'package.json'), 'utf8')).version;
  return { diff, leaks, version };
}

/** opsctl's answer to "who holds it": for each traced class, the holder of its largest path. */
function opsctlRoots(report) {
  const classes = report.kind === 'growth' ? report.newObjects.classes : report.classes;
  return classes
    .filter((row) => row.retainers.length > 0)
    .slice(0, 3)
    .map((row) => {
      const holder = row.retainers[0].holder;
      return `${row.name} ← ${holder === null ? row.retainers[0].origin : `${holder.edge ?? ''} (${holder.class})`}`;
    });
}

/** memlab's: per cluster of its leaks.txt, the last variable or property on the trace, and the leaked object. */
function memlabRoots(leaksText) {
  const clusters = leaksText.split(/\n(?=--Similar leaks in this run)/).filter((block) => block.startsWith('--Similar leaks'));
  return clusters.slice(0, 3).map((block) => {
    const hops = [...block.matchAll(/--(.+?) \((\w+)\)--->\s+\[(.*?)\] \((\w+)\)/g)].map(([, edge, edgeType, name]) => ({ edge, edgeType, name }));
    // The closure or module variable that holds it, else the last property on the way.
    const root = hops.findLast((hop) => hop.edgeType === 'variable') ?? hops.findLast((hop) => hop.edgeType === 'property');
    const leaked = hops.at(-1);
    const count = /Similar leaks in this run: (\d+)/.exec(block)?.[1];
    return `${leaked?.name ?? '?'} ← ${root === undefined ? '(no variable)' : `${root.edge} (${root.name})`} [${count} traces]`;
  });
}

if (!existsSync(opsctl)) throw new Error(`${opsctl} is missing: run pnpm --filter opsctl run build`);
mkdirSync(cache, { recursive: true });
const tools = memlab();
const heaps = sizes.map(snapshots);

console.log(
  `\nNode ${process.version}; ${repeat} runs of each command, one fresh process per run, medians; peak RSS is VmHWM; load averages (1, 5, 15 min) before the first → after the last`,
);
const median = (values) => {
  const sorted = [...values].sort((p, q) => p - q);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
/** `repeat` runs of `args` (a fresh work directory each, when given): the medians, each run, the last stdout. */
async function measureRepeated(args, workDir) {
  const all = [];
  for (let i = 0; i < repeat; i++) {
    if (workDir) {
      rmSync(workDir, { recursive: true, force: true });
      mkdirSync(workDir, { recursive: true });
    }
    all.push(await measure(workDir ? [...args, workDir] : args));
  }
  return {
    wallMs: median(all.map((r) => r.wallMs)),
    peak: median(all.map((r) => r.peak)),
    stdout: all.at(-1).stdout,
    runs: all.map((r) => `${(r.wallMs / 1000).toFixed(2)} s ${mb(r.peak)}`).join(', '),
    load: `${all[0].load.split(' → ')[0]} → ${all.at(-1).load.split(' → ')[1]}`,
  };
}
const row = (label, r, answer) =>
  `  ${label.padEnd(22)} ${`${(r.wallMs / 1000).toFixed(2)} s`.padStart(8)} ${mb(r.peak).padStart(9)}   load ${r.load}\n      runs: ${r.runs}\n${answer.map((line) => `      ${line}`).join('\n')}`;
const ratio = (o, m) =>
  `  ${'memlab ÷ opsctl'.padEnd(22)} ${`${(m.wallMs / o.wallMs).toFixed(1)}x`.padStart(8)} ${`${(m.peak / o.peak).toFixed(1)}x`.padStart(9)}`;

for (const { heapMB, a, b, c, heap } of heaps) {
  const files = [a, b, c].map((file) => mb(statSync(file).size)).join(' + ');
  console.log(`\n~${heapMB} MB heap: A, B, C heap used ${mb(heap.heapA)}, ${mb(heap.heapB)}, ${mb(heap.heapC)}; files ${files}`);

  const runs = [
    {
      key: 'class',
      name: 'class diff A → B',
      opsctl: [opsctl, 'heapdiff', a, b, '--retainers', '0', '--json'],
      answer: (stdout) =>
        JSON.parse(stdout)
          .classes.slice(0, 2)
          .map((top) => `top class ${top.name} (+${top.countDelta.toLocaleString('en-US')})`),
      memlab: tools && [`--max-old-space-size=${MEMLAB_HEAP_MB}`, tools.diff, a, b],
      memlabAnswer: (stdout) =>
        JSON.parse(stdout.trim().split('\n').at(-1))
          .slice(0, 2)
          .map((top) => `top class ${top.name} (+${top.countDelta.toLocaleString('en-US')})`),
    },
    {
      key: 'pair',
      name: 'retainers A → B',
      opsctl: [opsctl, 'heapdiff', a, b, '--json'],
      answer: (stdout) => opsctlRoots(JSON.parse(stdout)),
      memlab: tools && [`--max-old-space-size=${MEMLAB_HEAP_MB}`, tools.leaks, a, b, b],
      memlabAnswer: (stdout) => memlabRoots(JSON.parse(stdout.trim().split('\n').at(-1))),
    },
    {
      key: 'three',
      name: 'retainers A, B, C',
      opsctl: [opsctl, 'heapdiff', a, b, c, '--json'],
      answer: (stdout) => opsctlRoots(JSON.parse(stdout)),
      memlab: tools && [`--max-old-space-size=${MEMLAB_HEAP_MB}`, tools.leaks, a, b, c],
      memlabAnswer: (stdout) => memlabRoots(JSON.parse(stdout.trim().split('\n').at(-1))),
    },
  ];
  for (const run of runs.filter((candidate) => chosen.has(candidate.key))) {
    console.log(`\n ${run.name}`);
    const o = await measureRepeated(run.opsctl);
    console.log(row('opsctl heapdiff', o, run.answer(o.stdout)));
    if (run.memlab === null) continue;
    const workDir = run.memlab.includes(tools.leaks) ? join(cache, 'memlab-work') : undefined;
    let m;
    try {
      m = await measureRepeated(run.memlab, workDir);
    } catch (error) {
      console.log(`  memlab failed: ${error.message}`);
      continue;
    }
    console.log(row(`memlab ${tools.version}`, m, run.memlabAnswer(m.stdout)));
    console.log(ratio(o, m));
  }
}
