// pnpm bench:leaks — what leak detection costs and how fast it answers, on loopback.
//  1. Requests/s (wrk) of the app's own route with the leak monitor on versus off, the
//     endpoint in the same process, A/B in rounds; median ratio (goal: under 1% apart).
//     Also the server's CPU time per request, which a shared machine disturbs less.
//  2. Time to `suspected` for apps leaking 1 MB/s and 100 KB/s, polling GET /leaks every
//     5 s (bounded at 10 minutes each).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generateToken, hashToken } from '@opsctl/endpoint';
import { cpuSeconds, median, startServer, wrk } from './run.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PART = process.env.BENCH_PART; // "1" or "2" runs one part only
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

console.log(`Node ${process.version}`);
if (PART !== '2') {
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
  console.log(`   round ${round}: on ${Math.round(results.on)}/s ${cpu.on.toFixed(2)} µs CPU/req, off ${Math.round(results.off)}/s ${cpu.off.toFixed(2)} µs CPU/req`);
}
console.log(`   median throughput on/off ${median(ratios).toFixed(4)}; median CPU per request on/off ${median(cpuRatios).toFixed(4)}`);
}

if (PART !== '1') {
console.log('\n2. time to "suspected"');
const token = generateToken();
const leakApp = fileURLToPath(new URL('../../test/fixtures/leak-app.mjs', import.meta.url));
async function timeToSuspected(kbPerSecond) {
  const started = Date.now();
  const child = spawn(process.execPath, [leakApp], { env: { ...process.env, MODE: 'leak', LEAK_KB_PER_S: String(kbPerSecond), OPSCTL_TOKENS: `bench:${hashToken(token)}:read` }, stdio: ['ignore', 'pipe', 'ignore'] });
  const { ops } = await new Promise((resolve) => createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line))));
  let growingAt = null;
  try {
    while (Date.now() - started < 600_000) {
      await new Promise((r) => setTimeout(r, 5_000));
      const { verdict } = await (await fetch(`${ops}/leaks`, { headers: { authorization: `Bearer ${token}` } })).json();
      if (verdict.verdict === 'growing' && growingAt === null) growingAt = (Date.now() - started) / 1000;
      if (verdict.verdict === 'suspected') return { suspectedAt: (Date.now() - started) / 1000, growingAt };
    }
    return { suspectedAt: null, growingAt };
  } finally {
    child.kill('SIGKILL');
  }
}
for (const rate of [1024, 100]) {
  const { suspectedAt, growingAt } = await timeToSuspected(rate);
  console.log(`   ${rate >= 1024 ? `${rate / 1024} MB/s` : `${rate} KB/s`}: growing at ${growingAt ?? '-'} s, suspected at ${suspectedAt ?? 'not within 600'} s`);
}
}
