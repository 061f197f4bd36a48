// pnpm bench:thread — what the endpoint's own thread costs and what it buys, on loopback.
//  1. Idle cost: RSS and CPU over BENCH_IDLE_SECONDS of an app at rest with the endpoint
//     on its own port (its thread), against the same app with it mounted (no thread) and
//     without it.
//  2. The watchdog's cost: the app route's throughput (wrk) with the watchdog on and off,
//     A/B in rounds.
//  3. opsctl stack during a 30 s synchronous loop: how long each answer takes (the CLI
//     end to end, and the HTTP request alone).
//  4. The pause a stack capture costs the main thread: the longest gap between two
//     iterations of a busy loop while stacks are taken, against the same loop without.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generateToken } from '@opsctl/endpoint';
import { cpuSeconds, median, wrk } from './run.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 30);
const BLOCK_SECONDS = 30;
const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const opsctlBin = here('../../packages/cli/dist/bin.js');
const token = generateToken();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startApp(env) {
  const child = spawn(process.execPath, [here('./thread-app.mjs')], {
    env: { ...process.env, BENCH_TOKEN: token, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const urls = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`app exited with ${code}`)));
    createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line)));
  });
  return {
    ...urls,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

function timedRun(args) {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [opsctlBin, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, OPSCTL_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.once('exit', (code) => resolve({ code, out, ms: performance.now() - started }));
  });
}

async function timedGet(url) {
  const started = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - started };
}

console.log(`Node ${process.version}; loopback\n`);

// 1. Idle cost.
const idle = {};
for (const mode of ['none', 'mounted', 'own']) {
  const app = await startApp({ ENDPOINT: mode });
  await sleep(2_000);
  const cpuBefore = cpuSeconds(app.pid);
  await sleep(IDLE_SECONDS * 1000);
  idle[mode] = { rssMb: rssMb(app.pid), cpuSecondsPerMinute: ((cpuSeconds(app.pid) - cpuBefore) / IDLE_SECONDS) * 60 };
  await app.stop();
}
console.log(`1. idle for ${IDLE_SECONDS} s`);
for (const [mode, row] of Object.entries(idle))
  console.log(`   ${mode.padEnd(8)} RSS ${row.rssMb.toFixed(1)} MB, CPU ${row.cpuSecondsPerMinute.toFixed(3)} s per minute`);
console.log(
  `   the endpoint's thread: +${(idle.own.rssMb - idle.mounted.rssMb).toFixed(1)} MB RSS, +${(idle.own.cpuSecondsPerMinute - idle.mounted.cpuSecondsPerMinute).toFixed(3)} CPU s/min against mounted\n`,
);

// 2. The watchdog's cost on the app's own route.
const throughput = { on: [], off: [] };
for (let round = 1; round <= ROUNDS; round++) {
  for (const watchdog of ['on', 'off']) {
    const app = await startApp({ ENDPOINT: 'own', WATCHDOG: watchdog === 'on' ? '1' : '0' });
    try {
      await wrk(`${app.app}/`, 1, 20);
      throughput[watchdog].push((await wrk(`${app.app}/`, SECONDS, 20)).requestsPerSecond);
    } finally {
      await app.stop();
    }
  }
  console.log(`round ${round}: app route ${Math.round(throughput.on.at(-1))}/s with the watchdog, ${Math.round(throughput.off.at(-1))}/s without`);
}
const ratio = median(throughput.on.map((x, i) => x / throughput.off[i]));
console.log(`2. the watchdog: app throughput ${(ratio * 100).toFixed(1)}% of without it (median of ${ROUNDS} rounds)\n`);

// 3. opsctl stack during a 30 s synchronous loop.
{
  const app = await startApp({ ENDPOINT: 'own' });
  try {
    const blocking = fetch(`${app.app}/block?ms=${BLOCK_SECONDS * 1000}`).then((res) => res.text());
    await sleep(2_000);
    const cli = [];
    const http = [];
    for (let i = 0; i < 5; i++) {
      const run = await timedRun(['stack', '--url', app.ops]);
      if (run.code !== 0 || !/blocked for/.test(run.out)) throw new Error(`opsctl stack did not see the block: ${run.out}`);
      cli.push(run.ms);
      http.push((await timedGet(`${app.ops}/stack`)).ms);
      await sleep(1_000);
    }
    await blocking;
    console.log(
      `3. during a ${BLOCK_SECONDS} s synchronous loop: opsctl stack answered in ${Math.round(median(cli))} ms (median of 5, the CLI process included; slowest ${Math.round(Math.max(...cli))} ms); GET /stack alone ${Math.round(median(http))} ms\n`,
    );
  } finally {
    await app.stop();
  }
}

// 4. The pause a stack capture costs.
{
  const gaps = { without: [], with: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const kind of ['without', 'with']) {
      const app = await startApp({ ENDPOINT: 'own', WATCHDOG: '0' });
      try {
        const spinning = fetch(`${app.app}/spin?ms=4000`).then((res) => res.json());
        if (kind === 'with') {
          await sleep(1_000);
          const taken = await timedGet(`${app.ops}/stack`);
          if (taken.status !== 200) throw new Error(`GET /stack answered ${taken.status}`);
        }
        gaps[kind].push((await spinning).longestGapMs);
      } finally {
        await app.stop();
      }
    }
  }
  console.log(
    `4. longest pause of a busy main thread: ${median(gaps.with).toFixed(1)} ms with one stack taken, ${median(gaps.without).toFixed(1)} ms without (median of ${ROUNDS})`,
  );
}
