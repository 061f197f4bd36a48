// pnpm bench:repl — round-trip time of a trivial expression over loopback: in an
// interactive REPL session (send "1+1\n", wait for the next prompt) and through the
// one-shot /eval route. Reports median and p95 of many.
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generateToken, hashToken } from '@opsctl/endpoint';
import { median } from './run.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 500);
const token = generateToken();
const app = spawn(process.execPath, [fileURLToPath(new URL('../../examples/plain-http/server.js', import.meta.url))], {
  env: { ...process.env, PORT: '0', OPSCTL_PORT: '0', OPSCTL_TOKENS: `bench:${hashToken(token)}:repl` },
  stdio: ['ignore', 'pipe', 'ignore'],
});
const { ops } = await new Promise((resolve) => createInterface({ input: app.stdout }).once('line', (line) => resolve(JSON.parse(line))));
const p95 = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.95)];
const fmt = (ms) => `${ms.toFixed(2)} ms`;

const socket = await new Promise((resolve, reject) => {
  request(`${ops}/repl`, { headers: { authorization: `Bearer ${token}`, connection: 'Upgrade', upgrade: 'opsctl-repl', 'opsctl-terminal': 'tty=0' } })
    .on('upgrade', (_res, s, head) => {
      if (head.length) s.unshift(head);
      resolve(s);
    })
    .on('response', (res) => reject(new Error(`upgrade refused: ${res.statusCode}`)))
    .end();
});
let buffered = '';
let waiting = null;
socket.on('data', (chunk) => {
  buffered += chunk.toString();
  if (waiting && buffered.endsWith('> ')) {
    buffered = '';
    waiting();
  }
});
const untilPrompt = () =>
  new Promise((resolve) => {
    if (!buffered.endsWith('> ')) {
      waiting = resolve;
      return;
    }
    buffered = '';
    resolve();
  });
await untilPrompt();
const session = [];
for (let i = 0; i < ROUNDS; i++) {
  const started = performance.now();
  socket.write('1+1\n');
  await untilPrompt();
  session.push(performance.now() - started);
}
socket.end();

const oneShot = [];
for (let i = 0; i < ROUNDS; i++) {
  const started = performance.now();
  const res = await fetch(`${ops}/eval`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: '{"code":"1+1"}',
  });
  await res.json();
  oneShot.push(performance.now() - started);
}
app.kill('SIGTERM');

console.log(`Node ${process.version}, loopback, ${ROUNDS} round trips each`);
console.log(`interactive session  "1+1": median ${fmt(median(session))}, p95 ${fmt(p95(session))}`);
console.log(`one-shot POST /eval  "1+1": median ${fmt(median(oneShot))}, p95 ${fmt(p95(oneShot))}`);
