// An application with no opsctl code at all. Its start command adds the endpoint:
//   OPSCTL_TOKENS=... OPSCTL_PORT=9500 OPSCTL_REPL=1 node --import @opsctl/endpoint/register app.js
import { createServer } from 'node:http';

const greetings = new Map([
  ['en', 'hello'],
  ['fr', 'bonjour'],
]);
const server = createServer((_req, res) => res.end(`${greetings.get('en')}\n`));
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(JSON.stringify({ ready: true, app: `http://127.0.0.1:${server.address().port}`, pid: process.pid }));
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
