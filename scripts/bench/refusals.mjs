// pnpm bench:refusals — what an unauthenticated flood costs, on loopback, bounded in time.
//  1. Requests/s (wrk) of the endpoint's refusals against a bare node:http hello world, A/B in
//     rounds, default configuration: anonymous requests (401, each audited) and a flood of
//     bad tokens (401 until the address is blocked, then 429). Goal: at least 80% of bare.
//  2. The app's own route p99 latency (autocannon, fixed 500 req/s) while the ops port (same
//     process) is flooded with unauthenticated requests, against no flood.
import { generateToken } from '@opsctl/endpoint';
import { load, median, startServer, wrk } from './run.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 50;

async function throughput(args, path, headers = []) {
  const server = await startServer(...args);
  try {
    const url = `${server.urls.ops ?? server.urls.app}${path}`;
    await wrk(url, 1, CONNECTIONS, headers); // warm-up
    return await wrk(url, SECONDS, CONNECTIONS, headers);
  } finally {
    await server.stop();
  }
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
console.log(`Node ${process.version}; ${ROUNDS} rounds of ${SECONDS} s, ${CONNECTIONS} connections, loopback\n`);

const rows = { bare: [], anonymous: [], badTokens: [] };
const badToken = [`Authorization: Bearer ${generateToken()}`];
for (let round = 1; round <= ROUNDS; round++) {
  const bare = await throughput(['bare'], '/');
  const anonymous = await throughput(['endpoint'], '/info');
  const guessing = await throughput(['endpoint'], '/info', badToken);
  rows.bare.push(bare.requestsPerSecond);
  rows.anonymous.push(anonymous.requestsPerSecond);
  rows.badTokens.push(guessing.requestsPerSecond);
  console.log(`round ${round}: bare ${fmt(bare.requestsPerSecond)}/s, anonymous 401 ${fmt(anonymous.requestsPerSecond)}/s, bad tokens ${fmt(guessing.requestsPerSecond)}/s`);
}
const ratio = (a, b) => median(a.map((x, i) => x / b[i]));
console.log(`\n1. refusal throughput (median of ${ROUNDS}, ratio per round)`);
console.log(`   bare hello world            ${fmt(median(rows.bare))} req/s`);
console.log(`   anonymous, 401 each audited ${fmt(median(rows.anonymous))} req/s  = ${(ratio(rows.anonymous, rows.bare) * 100).toFixed(0)}% of bare (goal >= 80%)`);
console.log(`   bad tokens, 429 once blocked ${fmt(median(rows.badTokens))} req/s  = ${(ratio(rows.badTokens, rows.bare) * 100).toFixed(0)}% of bare`);

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
