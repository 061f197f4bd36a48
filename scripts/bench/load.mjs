// One load run with autocannon, in its own process so it does not share the server's
// event loop: node load.mjs URL SECONDS CONNECTIONS [RATE]. Prints a JSON summary.
import autocannon from 'autocannon';

const [url, seconds, connections, rate] = process.argv.slice(2);
const result = await autocannon({
  url,
  duration: Number(seconds),
  connections: Number(connections),
  ...(rate ? { overallRate: Number(rate) } : {}),
});
console.log(
  JSON.stringify({
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    statuses: { '2xx': result['2xx'], '4xx': result['4xx'], '5xx': result['5xx'] },
    errors: result.errors,
    timeouts: result.timeouts,
  }),
);
