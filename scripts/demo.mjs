// `pnpm demo`: starts the example shop app with a freshly minted token, shows the
// endpoint answering (and refusing), prints how to reach it, then stops the app.
// `pnpm demo --keep` leaves it running until Ctrl-C.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generateToken, hashToken } from '@opsctl/endpoint';

const keep = process.argv.includes('--keep');
const token = generateToken();
const appDir = fileURLToPath(new URL('../examples/plain-http/', import.meta.url));
const app = spawn(process.execPath, ['server.js'], {
  cwd: appDir,
  env: { ...process.env, PORT: '0', OPSCTL_PORT: '0', OPSCTL_TOKENS: `demo:${hashToken(token)}:admin` },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const stop = () => app.exitCode === null && app.kill('SIGTERM');
process.on('SIGINT', stop);
process.on('exit', stop);

const ready = await new Promise((resolve, reject) => {
  app.once('exit', (code) => reject(new Error(`the example app exited early (code ${code})`)));
  createInterface({ input: app.stdout }).once('line', (line) => resolve(JSON.parse(line)));
});

const anonymous = await fetch(`${ready.ops}/info`);
const info = await (await fetch(`${ready.ops}/info`, { headers: { authorization: `Bearer ${token}` } })).json();
const memory = await (await fetch(`${ready.ops}/memory`, { headers: { authorization: `Bearer ${token}` } })).json();
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

console.log(`
example app   ${ready.app}  (pid ${ready.pid})
ops endpoint  ${ready.ops}
anonymous     GET /info -> ${anonymous.status} ${(await anonymous.json()).error.code}
with token    GET /info -> ${info.instance.app.name} on ${info.instance.host}, Node ${info.instance.node}, caller "${info.caller.token}" (${info.caller.scopes.join(', ')})
              GET /memory -> heap ${mb(memory.process.heapUsed)} used, rss ${mb(memory.process.rss)}, limit ${mb(memory.limit.limitBytes)} (${memory.limit.source})

token (shown once; the app holds only its hash):
  ${token}
try:
  curl -s -H "Authorization: Bearer ${token}" ${ready.ops}/memory
`);

if (keep) {
  console.log('running until Ctrl-C');
  await new Promise((resolve) => app.once('exit', resolve));
} else {
  stop();
}
