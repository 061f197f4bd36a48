// Server processes for the benchmarks, one per process so each has its own event loop:
//   node servers.mjs bare              node:http hello world (the baseline)
//   node servers.mjs bare-close        the same, closing the connection after each answer
//                                      (as the endpoint does after refusing a caller without a token)
//   node servers.mjs endpoint          the opsctl endpoint, its connection limits raised for wrk
//   node servers.mjs app+endpoint [no-leaks]  an app route and the endpoint in one process,
//                                     default configuration; `no-leaks` turns the leak monitor off
//   node servers.mjs app+mounted       the same with the endpoint mounted under /ops of the app's
//                                     server (no thread of its own); its URL is the ops one
// BENCH_TOKEN, when set, is an admin token the endpoint accepts. Each prints one JSON line
// with its URLs when listening, and exits on SIGTERM. Audit events go to stderr.
import { createServer } from 'node:http';
import { createMaintenanceEndpoint, generateToken, hashToken } from '@opsctl/endpoint';

const [kind, flavour] = process.argv.slice(2);
const tokens = [{ name: 'bench', sha256: hashToken(process.env.BENCH_TOKEN ?? generateToken()), scopes: ['admin'] }];
// A route that allocates a little, like real handlers do, so the GCs the leak monitor watches happen.
const hello = (_req, res) =>
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ hello: 'world', at: Date.now(), items: [1, 2, 3] }));
const helloThenClose = (_req, res) =>
  res.writeHead(200, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify({ hello: 'world', at: Date.now(), items: [1, 2, 3] }));

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`)));
}

const urls = {};
if (kind === 'bare') {
  urls.app = await listen(createServer(hello));
} else if (kind === 'bare-close') {
  urls.app = await listen(createServer(helloThenClose));
} else if (kind === 'app+mounted') {
  const ops = createMaintenanceEndpoint({ tokens, port: 0, basePath: '/ops' });
  const server = createServer((req, res) => (req.url.startsWith('/ops') ? ops.handler(req, res) : hello(req, res)));
  server.on('upgrade', ops.upgradeHandler);
  urls.app = await listen(server);
  urls.ops = `${urls.app}/ops`;
} else {
  const ops = createMaintenanceEndpoint({
    tokens,
    port: 0,
    // For throughput, wrk's connections and not the default limits are the point.
    ...(kind === 'endpoint' ? { limits: { maxConnections: 1024, maxUnauthenticatedConnections: 1024, maxUnauthenticatedPerAddress: 1024 } } : {}),
    ...(flavour === 'no-leaks' ? { leaks: false } : {}),
  });
  urls.ops = (await ops.listen()).url;
  if (kind === 'app+endpoint') urls.app = await listen(createServer(hello));
}
console.log(JSON.stringify({ ...urls, pid: process.pid }));
process.on('SIGTERM', () => process.exit(0));
