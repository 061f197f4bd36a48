// Fastify with the opsctl endpoint under /ops on the application's own port. The
// endpoint is placed in front of Fastify with `serverFactory`, so Fastify never parses
// (or consumes) the endpoint's requests.
//   PORT (default 3000), OPSCTL_TOKENS (opsctl token new)
import { createServer } from 'node:http';
import Fastify from 'fastify';
import { createMaintenanceEndpoint } from '@opsctl/endpoint';

const catalogue = ['teapot', 'kettle'];
const ops = createMaintenanceEndpoint({ tokens: process.env.OPSCTL_TOKENS, basePath: '/ops', app: { name: 'fastify-shop' }, repl: { context: { catalogue } } });

const isOps = (url) => url === '/ops' || url.startsWith('/ops/');

const fastify = Fastify({
  serverFactory: (handler) => {
    const server = createServer((req, res) => (isOps(req.url) ? ops.handler(req, res) : handler(req, res)));
    // The REPL arrives as an HTTP Upgrade. Other upgrades are the application's: one with
    // WebSockets hands them to its server here instead; this one has none.
    server.on('upgrade', (req, socket, head) => {
      if (isOps(req.url)) ops.upgradeHandler(req, socket, head);
      else socket.destroy();
    });
    return server;
  },
});
fastify.get('/catalogue', async () => catalogue);

await fastify.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
const url = `http://127.0.0.1:${fastify.server.address().port}`;
console.log(JSON.stringify({ ready: true, app: url, ops: `${url}/ops`, pid: process.pid }));
process.once('SIGTERM', async () => {
  await ops.close();
  await fastify.close();
  process.exit(0);
});
