// pnpm bench:refusals — what an unauthenticated flood costs, on loopback, bounded in time.
//  1. Requests/s (wrk) of the endpoint's refusals against a bare node:http hello world, A/B in
//     rounds: pure 401s (throttle lifted) and the default configuration (throttled 429s).
//     Goal: refusals at least 80% of bare.
//  2. The app's own route p99 latency (autocannon, fixed 500 req/s) while the ops port (same
//     process) is flooded with unauthenticated requests, against no flood.
import { load, median, startServer, wrk } from './run.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 50;

async function throughput(args, path) {
  const server = await startServer(...args);
  try {
    const url = `${server.urls.ops ?? server.urls.app}${path}`;
    await wrk(url, 1, CONNECTIONS); // warm-up
    return await wrk(url, SECONDS, CONNECTIONS);
  } finally {
    await server.stop();
  }
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
console.log(`Node ${process.version}; ${ROUNDS} rounds of ${SECONDS} s, ${CONNECTIONS} connections, loopback\n`);

const rows = { bare: [], refused401: [], throttled429: [] };
for (let round = 1; round <= ROUNDS; round++) {
  const bare = await throughput(['bare'], '/');
  const open = await throughput(['endpoint', 'open'], '/info');
  const throttled = await throughput(['endpoint'], '/info');
  rows.bare.push(bare.requestsPerSecond);
  rows.refused401.push(open.requestsPerSecond);
  rows.throttled429.push(throttled.requestsPerSecond);
  console.log(`round ${round}: bare ${fmt(bare.requestsPerSecond)}/s, 401 ${fmt(open.requestsPerSecond)}/s (${open.non2xx} refused), throttled ${fmt(throttled.requestsPerSecond)}/s`);
}
const ratio = (a, b) => median(a.map((x, i) => x / b[i]));
console.log(`\n1. refusal throughput (median of ${ROUNDS}, ratio per round)`);
console.log(`   bare hello world      ${fmt(median(rows.bare))} req/s`);
console.log(`   401 (throttle lifted) ${fmt(median(rows.refused401))} req/s  = ${(ratio(rows.refused401, rows.bare) * 100).toFixed(0)}% of bare (goal >= 80%)`);
console.log(`   default (429 after 10 failures) ${fmt(median(rows.throttled429))} req/s  = ${(ratio(rows.throttled429, rows.bare) * 100).toFixed(0)}% of bare`);

const quiet = [];
const flooded = [];
for (let round = 1; round <= ROUNDS; round++) {
  const server = await startServer('app+endpoint');
  try {
    await load(`${server.urls.app}/`, 1, 4, 500);
    quiet.push((await load(`${server.urls.app}/`, SECONDS, 4, 500)).p99Ms);
    const [probe, flood] = await Promise.all([load(`${server.urls.app}/`, SECONDS, 4, 500), load(`${server.urls.ops}/info`, SECONDS, CONNECTIONS)]);
    flooded.push(probe.p99Ms);
    console.log(`round ${round}: app p99 ${quiet.at(-1)} ms quiet, ${probe.p99Ms} ms during a flood of ${fmt(flood.requestsPerSecond)} refusals/s`);
  } finally {
    await server.stop();
  }
}
console.log(`\n2. app route p99 at 500 req/s (median of ${ROUNDS})`);
console.log(`   quiet ${median(quiet)} ms, ops port flooded ${median(flooded)} ms`);
