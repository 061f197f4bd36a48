// pnpm bench:leaks — what leak detection costs and how fast it answers, on loopback.
//  1. Requests/s (wrk) of the app's own route with the leak monitor on versus off, the
//     endpoint in the same process, A/B in rounds; median ratio (goal: under 1% apart).
//  2. Time to `suspected` for apps leaking 1 MB/s and 100 KB/s, polling GET /leaks every
//     5 s (bounded at 10 minutes each).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generateToken, hashToken } from '@opsctl/endpoint';
import { median, startServer, wrk } from './run.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

console.log(`Node ${process.version}\n\n1. app route throughput, leak monitor on vs off (${ROUNDS} rounds of ${SECONDS} s, 50 connections)`);
const ratios = [];
for (let round = 1; round <= ROUNDS; round++) {
  const results = {};
  for (const flavour of round % 2 ? ['on', 'off'] : ['off', 'on']) {
    const server = await startServer('app+endpoint', flavour === 'off' ? 'no-leaks' : 'with-leaks');
    try {
      await wrk(`${server.urls.app}/`, 2, 50);
      results[flavour] = (await wrk(`${server.urls.app}/`, SECONDS, 50)).requestsPerSecond;
    } finally {
      await server.stop();
    }
  }
  ratios.push(results.on / results.off);
  console.log(`   round ${round}: on ${Math.round(results.on)}/s, off ${Math.round(results.off)}/s, on/off ${(results.on / results.off).toFixed(4)}`);
}
console.log(`   median on/off ${median(ratios).toFixed(4)} (${((1 - median(ratios)) * 100).toFixed(2)}% slower with the monitor)`);

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
