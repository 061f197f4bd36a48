// Express with the opsctl endpoint mounted under /ops on the application's own port.
// Use this when the platform exposes one port only; otherwise prefer the endpoint's own
// loopback port (examples/plain-http), which keeps maintenance off the public listener.
//   PORT (default 3000), OPSCTL_TOKENS (opsctl token new)
import { createServer } from 'node:http';
import express from 'express';
import { createMaintenanceEndpoint } from '@opsctl/endpoint';

const app = express();
const inventory = { teapots: 12 };

// Express strips the mount path from requests, so the endpoint sees /info, /heapdump, …;
// upgrades (the REPL) bypass Express and arrive as /ops/repl: basePath covers both.
const ops = createMaintenanceEndpoint({ tokens: process.env.OPSCTL_TOKENS, basePath: '/ops', app: { name: 'express-shop' }, repl: { context: { inventory } } });
app.use('/ops', ops.handler);
app.get('/inventory', (_req, res) => res.json(inventory));

const server = createServer(app);
// The REPL arrives as an HTTP Upgrade. Other upgrades are the application's: one with
// WebSockets hands them to its server here instead; this one has none.
server.on('upgrade', (req, socket, head) => {
  if (req.url === '/ops' || req.url.startsWith('/ops/')) ops.upgradeHandler(req, socket, head);
  else socket.destroy();
});
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const url = `http://127.0.0.1:${server.address().port}`;
  console.log(JSON.stringify({ ready: true, app: url, ops: `${url}/ops`, pid: process.pid }));
});
process.once('SIGTERM', async () => {
  await ops.close();
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
