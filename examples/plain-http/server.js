// A small shop API on node:http with the opsctl maintenance endpoint on its own
// loopback port. Configuration comes from the environment:
//   PORT            the application's port (default 3000)
//   OPSCTL_TOKENS   who may use the endpoint: `name:sha256:scopes` entries (opsctl token new)
//   OPSCTL_PORT     the endpoint's port (default 9500; 0 picks a free one)
//   LEAK_KB_PER_S   start with a memory leak of this many KB/s (default 0); POST /leak?kbPerSecond=N switches it
import { createServer } from 'node:http';
import { createMaintenanceEndpoint } from '@opsctl/endpoint';

const orders = new Map([[1, { id: 1, item: 'teapot', quantity: 2 }]]);
const leaked = [];
let leakTimer = null;

function setLeak(kbPerSecond) {
  clearInterval(leakTimer);
  leakTimer = null;
  if (kbPerSecond > 0) {
    // Ten times a second, keep kbPerSecond/10 KB of small objects forever: a classic retained-cache leak.
    const perTick = Math.max(1, Math.round((kbPerSecond * 1024) / 10 / 120)); // ~120 bytes each, measured
    leakTimer = setInterval(() => {
      for (let i = 0; i < perTick; i++) leaked.push({ at: Date.now(), note: `request ${leaked.length}` });
    }, 100);
  }
  return kbPerSecond;
}

const app = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method === 'GET' && url.pathname === '/orders') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([...orders.values()]));
  } else if (req.method === 'POST' && url.pathname === '/leak') {
    const rate = Number(url.searchParams.get('kbPerSecond') ?? '0');
    if (!Number.isFinite(rate) || rate < 0) return res.writeHead(400).end('kbPerSecond must be a number >= 0\n');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kbPerSecond: setLeak(rate) }));
  } else if (url.pathname === '/') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('shop is open\n');
  } else {
    res.writeHead(404).end();
  }
});

const ops = createMaintenanceEndpoint({
  tokens: process.env.OPSCTL_TOKENS,
  port: Number(process.env.OPSCTL_PORT ?? 9500),
  app: { name: 'shop', version: '1.0.0' },
  // `opsctl repl` sees these by name; nothing else of the app unless reached through them.
  repl: { context: { orders, setLeak, leaked } },
});

setLeak(Number(process.env.LEAK_KB_PER_S ?? 0));
app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', async () => {
  const { url } = await ops.listen();
  const { port } = app.address();
  // One line a supervisor (or the demo) can wait for.
  console.log(JSON.stringify({ ready: true, app: `http://127.0.0.1:${port}`, ops: url, pid: process.pid }));
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    clearInterval(leakTimer);
    await ops.close();
    app.close(() => process.exit(0));
    app.closeAllConnections();
  });
}
