// pnpm bench:leaks — what leak detection costs and how fast it answers, on loopback.
//  1. Requests/s (wrk) of the app's own route with the leak monitor on versus off, the
//     endpoint in the same process, A/B in rounds; median ratio (goal: under 1% apart).
//     Also the server's CPU time per request, which a shared machine disturbs less.
//  2. For each Node in BENCH_NODES (comma-separated paths; default this one), the scenario
//     apps of scripts/leaks/scenarios.mjs under 300 req/s, GET /leaks polled every 5 s:
//     time to `growing` and `suspected` for leaks of 100 KB/s and 1 MB/s (heap) and of
//     100 KB/s of Buffers (external), up to BENCH_RUN_SECONDS (300); the non-leaking ones
//     for BENCH_RUN_SECONDS, counting polls that said `suspected` (false alarms); and the
//     forced GCs' total pause per minute, beside V8's own major GCs'.
//  3. The same Nodes, a 1 MB/s leak and a steady app, each twice side by side for 120 s:
//     gap-filling on (default) and off (leaks.maxForcedPauseMs 0): all major-GC pause per
//     minute, forced and V8's own, as the ratio on/off.
// BENCH_PART=1|2|3 runs one part; BENCH_PARALLEL (2) apps at a time in parts 2 and 3.
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { LEAKING, startScenario } from '../leaks/scenarios.mjs';
import { cpuSeconds, median, startServer, wrk } from './run.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PART = process.env.BENCH_PART;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const RUN_SECONDS = Number(process.env.BENCH_RUN_SECONDS ?? 300);
const PARALLEL = Number(process.env.BENCH_PARALLEL ?? 2);
const NODES = (process.env.BENCH_NODES ?? process.execPath).split(',').filter(Boolean);
const POLL_MS = 5_000;

console.log(
  `Node ${process.version}; load average at start ${loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')} on this machine`,
);
if (PART === undefined || PART === '1') {
  console.log(`\n1. app route throughput, leak monitor on vs off (${ROUNDS} rounds of ${SECONDS} s, 50 connections)`);
  const ratios = [];
  const cpuRatios = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const results = {};
    const cpu = {};
    for (const flavour of round % 2 ? ['on', 'off'] : ['off', 'on']) {
      const server = await startServer('app+endpoint', flavour === 'off' ? 'no-leaks' : 'with-leaks');
      try {
        await wrk(`${server.urls.app}/`, 2, 50);
        const before = cpuSeconds(server.urls.pid);
        const run = await wrk(`${server.urls.app}/`, SECONDS, 50);
        results[flavour] = run.requestsPerSecond;
        cpu[flavour] = ((cpuSeconds(server.urls.pid) - before) / (run.requestsPerSecond * SECONDS)) * 1e6;
      } finally {
        await server.stop();
      }
    }
    ratios.push(results.on / results.off);
    cpuRatios.push(cpu.on / cpu.off);
    console.log(
      `   round ${round}: on ${Math.round(results.on)}/s ${cpu.on.toFixed(2)} µs CPU/req, off ${Math.round(results.off)}/s ${cpu.off.toFixed(2)} µs CPU/req`,
    );
  }
  console.log(`   median throughput on/off ${median(ratios).toFixed(4)}; median CPU per request on/off ${median(cpuRatios).toFixed(4)}`);
}

/** Runs `jobs` (functions returning promises) at most PARALLEL at a time, in order. */
async function pool(jobs) {
  const results = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(PARALLEL, jobs.length) }, async () => {
      while (next < jobs.length) {
        const index = next++;
        results[index] = await jobs[index]();
      }
    }),
  );
  return results;
}

function versionOf(node) {
  return execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
}

/**
 * Polls a scenario every 5 s for up to `seconds` (a leak stops once suspected): when it was
 * first growing and suspected, how many polls said suspected, and the GC pauses per minute.
 */
async function observe(scenario, node, seconds, env = {}) {
  const app = await startScenario(scenario, { node, seconds, env });
  const started = Date.now();
  const seen = { growingAt: null, suspectedAt: null, suspectedPolls: 0, polls: 0, worst: 'unknown' };
  const order = ['unknown', 'ok', 'growing', 'suspected'];
  let status = null;
  try {
    while (Date.now() - started < seconds * 1000) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      status = await (await fetch(`${app.ops}/leaks`, { headers: app.headers })).json();
      const { verdict } = status.verdict;
      const at = Math.round((status.time - status.since) / 1000);
      seen.polls++;
      if (order.indexOf(verdict) > order.indexOf(seen.worst)) seen.worst = verdict;
      if (verdict === 'growing' && seen.growingAt === null) seen.growingAt = at;
      if (verdict === 'suspected') {
        seen.suspectedPolls++;
        seen.suspectedAt ??= at;
        if (LEAKING.has(scenario)) break;
      }
    }
  } finally {
    app.stop();
  }
  const minutes = (status.time - status.since) / 60_000;
  const { forcedGcs, forcedPauseMs, naturalGcs, naturalPauseMs } = status.sampling;
  return { scenario, ...seen, minutes, forcedGcs, naturalGcs, forcedPerMinute: forcedPauseMs / minutes, naturalPerMinute: naturalPauseMs / minutes };
}

const ms = (value) => `${Math.round(value)} ms`;
const seconds = (value) => (value === null ? '-' : `${value} s`);

if (PART === undefined || PART === '2') {
  console.log(
    `\n2. time to "suspected", false alarms and forced-GC pause (300 req/s per app, GET /leaks every ${POLL_MS / 1000} s, ${PARALLEL} apps at a time)`,
  );
  console.log('| Node | scenario | growing at | suspected at | polls suspected | forced GCs | forced pause/min | V8 major-GC pause/min |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const node of NODES) {
    const version = versionOf(node);
    const scenarios = ['leak-100kb', 'leak-1mb', 'buffer-100kb', 'cache', 'step', 'lazy', 'log', 'sawtooth', 'steady'];
    const rows = await pool(scenarios.map((scenario) => () => observe(scenario, node, RUN_SECONDS)));
    for (const r of rows) {
      const alarms = LEAKING.has(r.scenario) ? '' : `${r.suspectedPolls} of ${r.polls}${r.suspectedPolls > 0 ? ' FALSE ALARM' : ''}`;
      console.log(
        `| ${version} | ${r.scenario} | ${seconds(r.growingAt)} | ${!LEAKING.has(r.scenario) ? '-' : r.suspectedAt === null ? `not within ${RUN_SECONDS} s` : `${r.suspectedAt} s`} | ${alarms} | ${r.forcedGcs} | ${ms(r.forcedPerMinute)} | ${ms(r.naturalPerMinute)} (${r.naturalGcs} GCs) |`,
      );
    }
  }
  console.log(
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}`,
  );
}

if (PART === undefined || PART === '3') {
  console.log('\n3. all major-GC pause per minute with gap-filling GCs on and off (two apps side by side, 120 s)');
  console.log("| Node | scenario | on: forced + V8's own | off: V8's own | on/off |");
  console.log('|---|---|---|---|---|');
  for (const node of NODES) {
    const version = versionOf(node);
    for (const scenario of ['leak-1mb', 'steady']) {
      const [on, off] = await Promise.all([observe(scenario, node, 120), observe(scenario, node, 120, { MAX_FORCED_PAUSE_MS: '0' })]);
      const total = (r) => r.forcedPerMinute + r.naturalPerMinute;
      const ratio = total(off) < 1 ? 'V8 ran none' : (total(on) / total(off)).toFixed(2);
      console.log(`| ${version} | ${scenario} | ${ms(total(on))} (${ms(on.forcedPerMinute)} forced) | ${ms(total(off))} | ${ratio} |`);
    }
  }
}
