// pnpm bench:refusals — what callers without a token cost, on loopback, bounded in time.
//  1. Refusal throughput (wrk) against bare node:http, A/B in rounds: anonymous requests
//     (401, connection closed after it, audited in summary) and a flood of bad tokens (401
//     until the address is blocked, then 429). The like-for-like baseline of a refusal that
//     closes its connection is a bare server that closes too. Goal: >= 90% of it.
//  2. The application's own route p99 at a fixed 500 req/s (autocannon) in the process that
//     also serves the endpoint with its default configuration, quiet and under attack on the
//     ops port: wrk's anonymous flood at full speed, 80 slowloris clients that never read,
//     a churn of connections that connect and leave; and, for comparison, the anonymous flood
//     on an endpoint mounted in the app's server. Meanwhile an operator asks GET /info on
//     a fresh connection every 100 ms (success rate, slowest answer), and the bytes of audit
//     the process writes are counted. Goals: p99 <= 1.5x quiet; operator 100%, within 1 s;
//     audit bytes bounded, whatever the flood's rate. On 2 cores the flood's own process
//     takes one: the app competes for CPU whatever the endpoint does.
import { request } from 'node:http';
import { generateToken } from '@opsctl/endpoint';
import { flood, load, median, startServer, startServerWithEnv, wrk } from './run.mjs';

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

const rows = { bare: [], bareClose: [], anonymous: [], badTokens: [] };
const badToken = [`Authorization: Bearer ${generateToken()}`];
for (let round = 1; round <= ROUNDS; round++) {
  const bare = await throughput(['bare'], '/');
  const bareClose = await throughput(['bare-close'], '/');
  const anonymous = await throughput(['endpoint'], '/info');
  const guessing = await throughput(['endpoint'], '/info', badToken);
  rows.bare.push(bare.requestsPerSecond);
  rows.bareClose.push(bareClose.requestsPerSecond);
  rows.anonymous.push(anonymous.requestsPerSecond);
  rows.badTokens.push(guessing.requestsPerSecond);
  console.log(
    `round ${round}: bare ${fmt(bare.requestsPerSecond)}/s, bare closing ${fmt(bareClose.requestsPerSecond)}/s, anonymous 401 ${fmt(anonymous.requestsPerSecond)}/s, bad tokens ${fmt(guessing.requestsPerSecond)}/s`,
  );
}
const ratio = (a, b) => median(a.map((x, i) => x / b[i]));
const pct = (a, b) => `${(ratio(a, b) * 100).toFixed(0)}%`;
console.log(`\n1. refusal throughput (median of ${ROUNDS}, ratio per round)`);
console.log(`   bare hello world, keep-alive     ${fmt(median(rows.bare))} req/s`);
console.log(`   bare hello world, closing        ${fmt(median(rows.bareClose))} req/s`);
console.log(
  `   anonymous 401, closing           ${fmt(median(rows.anonymous))} req/s  = ${pct(rows.anonymous, rows.bareClose)} of bare closing (goal >= 90%), ${pct(rows.anonymous, rows.bare)} of bare keep-alive`,
);
console.log(`   bad tokens, 429 once blocked     ${fmt(median(rows.badTokens))} req/s  = ${pct(rows.badTokens, rows.bare)} of bare keep-alive`);

/** GET /info on a fresh connection every 100 ms until `stop` resolves: how many succeeded, and the slowest. */
async function operator(url, token, stop) {
  let done = false;
  void stop.then(() => (done = true));
  const results = [];
  while (!done) {
    const started = performance.now();
    const status = await new Promise((resolve) => {
      const req = request(`${url}/info`, { agent: false, headers: { authorization: `Bearer ${token}`, connection: 'close' }, timeout: 5_000 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(0));
      req.end();
    });
    results.push({ ok: status === 200, ms: performance.now() - started });
    await new Promise((r) => setTimeout(r, 100));
  }
  return { ok: results.filter((r) => r.ok).length, total: results.length, slowestMs: Math.round(Math.max(...results.map((r) => r.ms))) };
}

const attacks = {
  quiet: null,
  'anonymous flood (wrk)': (server) => wrk(`${server.urls.ops}/info`, SECONDS, CONNECTIONS),
  // The same flood on an endpoint mounted in the app's server: its refusals share the app's thread.
  'mounted, same flood': (server) => wrk(`${server.urls.ops}/info`, SECONDS, CONNECTIONS),
  '80 slowloris': (server) => flood(Number(new URL(server.urls.ops).port), 'slowloris', 80, SECONDS),
  'connection churn': (server) => flood(Number(new URL(server.urls.ops).port), 'connect', 80, SECONDS),
};
const results = Object.fromEntries(Object.keys(attacks).map((name) => [name, { p99: [], operator: [], auditBytesPerS: [] }]));
const token = generateToken();
for (let round = 1; round <= ROUNDS; round++) {
  for (const [name, attack] of Object.entries(attacks)) {
    const server = await startServerWithEnv({ BENCH_TOKEN: token }, name.startsWith('mounted') ? 'app+mounted' : 'app+endpoint');
    try {
      await load(`${server.urls.app}/`, 1, 4, 500);
      const auditBefore = server.stderrBytes();
      const attacking = attack === null ? new Promise((r) => setTimeout(r, SECONDS * 1000)) : attack(server);
      const [probe, , who] = await Promise.all([load(`${server.urls.app}/`, SECONDS, 4, 500), attacking, operator(server.urls.ops, token, attacking)]);
      const row = results[name];
      row.p99.push(probe.p99Ms);
      row.operator.push(who);
      row.auditBytesPerS.push((server.stderrBytes() - auditBefore) / SECONDS);
      console.log(
        `round ${round}, ${name}: app p99 ${probe.p99Ms} ms; operator ${who.ok}/${who.total} ok, slowest ${who.slowestMs} ms; audit ${fmt(row.auditBytesPerS.at(-1))} B/s`,
      );
    } finally {
      await server.stop();
    }
  }
}
console.log(`\n2. app route p99 at 500 req/s, the endpoint in the same process (median of ${ROUNDS})`);
const quietP99 = median(results.quiet.p99);
for (const [name, row] of Object.entries(results)) {
  const ok = row.operator.reduce((sum, r) => sum + r.ok, 0);
  const total = row.operator.reduce((sum, r) => sum + r.total, 0);
  const slowest = Math.max(...row.operator.map((r) => r.slowestMs));
  console.log(
    `   ${name.padEnd(24)} p99 ${String(median(row.p99)).padStart(4)} ms (${(median(row.p99) / quietP99).toFixed(2)}x quiet); operator ${ok}/${total} ok, slowest ${slowest} ms; audit ${fmt(median(row.auditBytesPerS))} B/s`,
  );
}
