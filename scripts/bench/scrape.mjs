// pnpm bench:scrape — what Prometheus scraping GET /metrics once a second costs the
// application's own route, on loopback. One process serves the app route and the endpoint
// (its default configuration); autocannon saturates the app route for SECONDS without
// scrapes and SECONDS with one scrape a second (Prometheus' Accept header, keep-alive),
// A/B in one run, the order swapped each round. Throughput and the server's CPU time per
// request (which a shared machine disturbs less), as ratios with/without. Goal: no
// measurable difference (within the noise between rounds). Then the cost of one scrape
// itself, which noise hides in that ratio: the process's CPU time per scrape, scraping
// back to back for SCRAPE_SECONDS against an otherwise idle app, less its idle CPU.
import { generateToken } from '@opsctl/endpoint';
import { cpuSeconds, load, median, startServerWithEnv } from './run.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const CONNECTIONS = 50;
const SCRAPE_SECONDS = 10;
// What Prometheus 2.42 sends: OpenMetrics first, the text format as a fallback.
const ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

async function scrape(url, token) {
  const started = performance.now();
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}`, accept: ACCEPT } });
  const bytes = (await res.arrayBuffer()).byteLength;
  if (res.status !== 200) throw new Error(`scrape answered ${res.status}`);
  return { ms: performance.now() - started, bytes };
}

/** GET /metrics once a second until `stop` resolves: the scrapes' durations and sizes. */
async function scrapeEverySecond(url, token, stop) {
  let done = false;
  void stop.then(() => (done = true));
  const scrapes = [];
  while (!done) {
    const one = await scrape(url, token);
    scrapes.push(one);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - one.ms)));
  }
  return scrapes;
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
console.log(
  `Node ${process.version}; ${ROUNDS} rounds of ${SECONDS} s without and ${SECONDS} s with 1 scrape/s; autocannon, ${CONNECTIONS} connections, loopback\n`,
);

const token = generateToken();
const ratios = { throughput: [], cpu: [] };
const allScrapes = [];
for (let round = 1; round <= ROUNDS; round++) {
  const server = await startServerWithEnv({ BENCH_TOKEN: token }, 'app+endpoint');
  try {
    await load(`${server.urls.app}/`, 5, CONNECTIONS); // warm-up
    const results = {};
    for (const phase of round % 2 ? ['without', 'with'] : ['with', 'without']) {
      const cpuBefore = cpuSeconds(server.urls.pid);
      const loading = load(`${server.urls.app}/`, SECONDS, CONNECTIONS);
      const scraping = phase === 'with' ? scrapeEverySecond(server.urls.ops, token, loading) : Promise.resolve([]);
      const [run, scrapes] = await Promise.all([loading, scraping]);
      const cpuPerRequestUs = ((cpuSeconds(server.urls.pid) - cpuBefore) / (run.requestsPerSecond * SECONDS)) * 1e6;
      results[phase] = { requestsPerSecond: run.requestsPerSecond, cpuPerRequestUs, scrapes };
      allScrapes.push(...scrapes);
    }
    const { with: on, without: off } = results;
    ratios.throughput.push(on.requestsPerSecond / off.requestsPerSecond);
    ratios.cpu.push(on.cpuPerRequestUs / off.cpuPerRequestUs);
    console.log(
      `round ${round}: without ${fmt(off.requestsPerSecond)} req/s ${off.cpuPerRequestUs.toFixed(2)} µs CPU/req; with 1 scrape/s ${fmt(on.requestsPerSecond)} req/s ${on.cpuPerRequestUs.toFixed(2)} µs CPU/req (${on.scrapes.length} scrapes)`,
    );
  } finally {
    await server.stop();
  }
}
const ms = allScrapes.map((s) => s.ms);
console.log(
  `\nscrapes: ${allScrapes.length}, median ${median(ms).toFixed(1)} ms, slowest ${Math.max(...ms).toFixed(1)} ms, ${fmt(median(allScrapes.map((s) => s.bytes)))} bytes each (under load)`,
);
console.log(
  `app route throughput with/without scrapes: ${median(ratios.throughput).toFixed(4)} (median of ${ROUNDS} rounds; per round ${ratios.throughput.map((r) => r.toFixed(4)).join(', ')})`,
);
console.log(`CPU per request with/without scrapes:      ${median(ratios.cpu).toFixed(4)} (per round ${ratios.cpu.map((r) => r.toFixed(4)).join(', ')})`);

console.log(`\nCPU time of one scrape: ${SCRAPE_SECONDS} s idle, then ${SCRAPE_SECONDS} s of scrapes back to back, one at a time`);
const server = await startServerWithEnv({ BENCH_TOKEN: token }, 'app+endpoint');
try {
  await scrape(server.urls.ops, token);
  const idleBefore = cpuSeconds(server.urls.pid);
  await new Promise((resolve) => setTimeout(resolve, SCRAPE_SECONDS * 1000));
  const idlePerSecond = (cpuSeconds(server.urls.pid) - idleBefore) / SCRAPE_SECONDS;
  const before = cpuSeconds(server.urls.pid);
  const started = performance.now();
  let count = 0;
  while (performance.now() - started < SCRAPE_SECONDS * 1000) {
    await scrape(server.urls.ops, token);
    count++;
  }
  const seconds = (performance.now() - started) / 1000;
  const perScrapeUs = ((cpuSeconds(server.urls.pid) - before - idlePerSecond * seconds) / count) * 1e6;
  console.log(
    `   ${count} scrapes, ${fmt(perScrapeUs)} µs of the app process's CPU each (idle: ${(idlePerSecond * 1000).toFixed(1)} ms CPU/s): at 1 scrape/s, ${(perScrapeUs / 1e4).toFixed(3)}% of one core`,
  );
} finally {
  await server.stop();
}
