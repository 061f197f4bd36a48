// pnpm bench:heapdump — one child process per measurement, with HEAP_MB of live heap
// (default sizes 50, 200 and 500 MB; BENCH_HEAP_MB=50,200 to choose). For each size:
//   (a) v8.writeHeapSnapshot inside the process: the floor
//   (b) the classic pattern: snapshot to a temp file, read it whole into a string, res.end
//   (c) opsctl heapdump end to end (the built binary, gzip on the wire, verified, renamed)
// Wall time and the child's extra peak RSS (VmHWM after minus RSS before, with VmHWM
// reset first), each as a ratio to (a). Goals: (c) wall <= 1.25x (a), extra peak <= 1.1x (a).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generateToken, hashToken } from '@opsctl/endpoint';

const sizes = (process.env.BENCH_HEAP_MB ?? '50,200,500').split(',').map(Number);
const child = fileURLToPath(new URL('./heap-child.mjs', import.meta.url));
const opsctl = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));
const token = generateToken();
const mb = (bytes) => `${Math.round(bytes / 1024 / 1024)} MB`;

const hwm = (pid) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
const resetHwm = (pid) => writeFileSync(`/proc/${pid}/clear_refs`, '5');

function startChild(heapMb, method) {
  const proc = spawn(process.execPath, [child], {
    env: { ...process.env, HEAP_MB: String(heapMb), METHOD: method, OPSCTL_TOKENS: `bench:${hashToken(token)}:heap` },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: proc.stdout });
  const next = () => new Promise((resolve) => lines.once('line', (line) => resolve(JSON.parse(line))));
  return { proc, next };
}

async function measure(heapMb, method) {
  const { proc, next } = startChild(heapMb, method);
  const ready = await next();
  resetHwm(ready.pid);
  const rssBefore = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${ready.pid}/status`, 'utf8'))[1]) * 1024;
  let wallMs;
  let failed = null;
  if (method === 'local') {
    proc.stdin.write('go\n');
    ({ wallMs } = await next());
  } else if (method === 'classic') {
    const started = performance.now();
    const res = await fetch(`${ready.url}/dump`);
    for await (const _ of res.body) { /* drain */ }
    wallMs = performance.now() - started;
    if (res.status !== 200) failed = 'failed: the snapshot does not fit in one string';
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'bench-heapdump-'));
    const started = performance.now();
    // The preflight is conservative (x24); the bench measures what it may refuse on a small machine.
    execFileSync(process.execPath, [opsctl, 'heapdump', '--out', `${dir}/`, '--skip-memory-check'], { env: { ...process.env, OPSCTL_URL: ready.url, OPSCTL_TOKEN: token }, stdio: 'ignore' });
    wallMs = performance.now() - started;
    rmSync(dir, { recursive: true, force: true });
  }
  const extraPeak = hwm(ready.pid) - rssBefore;
  proc.stdin.write('bye\n');
  proc.kill('SIGKILL');
  return { wallMs, extraPeak, heapUsed: ready.heapUsed, failed };
}

console.log(`Node ${process.version}; one fresh child per cell\n`);
console.log('heap      method                      wall      x(a)   extra peak RSS   x(a)');
for (const size of sizes) {
  const a = await measure(size, 'local');
  const b = await measure(size, 'classic');
  const c = await measure(size, 'endpoint');
  for (const [name, r] of [['(a) writeHeapSnapshot', a], ['(b) classic read+end', b], ['(c) opsctl heapdump', c]]) {
    console.log(`${mb(a.heapUsed).padEnd(9)} ${name.padEnd(26)} ${`${(r.wallMs / 1000).toFixed(1)} s`.padStart(7)}  ${(r.wallMs / a.wallMs).toFixed(2).padStart(5)}   ${mb(r.extraPeak).padStart(12)}   ${(r.extraPeak / a.extraPeak).toFixed(2).padStart(5)}${r.failed ? `  ${r.failed}` : ''}`);
  }
}
