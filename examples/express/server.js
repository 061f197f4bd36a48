// Express with the opsctl endpoint mounted under /ops on the application's own port.
// Use this when the platform exposes one port only; otherwise prefer the endpoint's own
// loopback port (examples/plain-http), which keeps maintenance off the public listener.
//   PORT (default 3000), OPSCTL_TOKENS (opsctl token new)
import { createServer } from 'node:http';
import express from 'express';
import { createMaintenanceEndpoint } from '@opsctl/endpoint';

const app = express();
const inventory = { teapots: 12 };

// Express strips the mount path, so the endpoint sees /info, /heapdump, …
const ops = createMaintenanceEndpoint({ tokens: process.env.OPSCTL_TOKENS, app: { name: 'express-shop' }, repl: { context: { inventory } } });
app.use('/ops', ops.handler);
app.get('/inventory', (req, res) => res.json(inventory));

const server = createServer(app);
server.on('upgrade', ops.upgradeHandler); // the REPL arrives as an HTTP Upgrade
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const url = `http://127.0.0.1:${server.address().port}`;
  console.log(JSON.stringify({ ready: true, app: url, ops: `${url}/ops`, pid: process.pid }));
});
process.once('SIGTERM', async () => {
  await ops.close();
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
