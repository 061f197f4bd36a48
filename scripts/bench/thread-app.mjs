// The application of pnpm bench:thread, configured from the environment:
//   ENDPOINT=own|mounted|none   the endpoint on its own port (its own thread), mounted under
//                               /ops of the app's server, or absent (default own)
//   WATCHDOG=0                  the blocked-loop watchdog off
//   BENCH_TOKEN                 an admin token the endpoint accepts
// Routes: GET / (hello), GET /block?ms=N (a synchronous loop), GET /spin?ms=N (a synchronous
// loop that answers the longest gap between two of its iterations: what a pause of the
// main thread from outside, such as taking its stack, cost it).
// Prints one JSON line { app, ops, pid } when listening; exits on SIGTERM.
import { createServer } from 'node:http';
import { createMaintenanceEndpoint, hashToken } from '@opsctl/endpoint';

const mode = process.env.ENDPOINT ?? 'own';
const ops =
  mode === 'none'
    ? null
    : createMaintenanceEndpoint({
        tokens: [{ name: 'bench', sha256: hashToken(process.env.BENCH_TOKEN), scopes: ['admin'] }],
        port: 0,
        audit: false,
        ...(mode === 'mounted' ? { basePath: '/ops' } : {}),
        ...(process.env.WATCHDOG === '0' ? { watchdog: false } : {}),
      });

function spin(ms) {
  const end = performance.now() + ms;
  let last = performance.now();
  let longest = 0;
  for (let now = last; now < end; now = performance.now()) {
    longest = Math.max(longest, now - last);
    last = now;
  }
  return longest;
}

const app = createServer((req, res) => {
  if (ops !== null && mode === 'mounted' && req.url.startsWith('/ops')) return ops.handler(req, res);
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/block' || url.pathname === '/spin') {
    const longestGapMs = spin(Number(url.searchParams.get('ms')));
    return res.end(JSON.stringify({ longestGapMs }));
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ hello: 'world', at: Date.now() }));
});
app.listen(0, '127.0.0.1', async () => {
  const appUrl = `http://127.0.0.1:${app.address().port}`;
  const opsUrl = ops === null ? null : mode === 'mounted' ? `${appUrl}/ops` : (await ops.listen()).url;
  console.log(JSON.stringify({ app: appUrl, ops: opsUrl, pid: process.pid }));
});
process.on('SIGTERM', () => process.exit(0));
