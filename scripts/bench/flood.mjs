// A flood against one loopback port, from its own process, bounded in time (used by
// pnpm bench:refusals and the adversarial tests):
//   node flood.mjs PORT MODE CONNECTIONS DURATION_MS [TOKEN]
// MODE: anonymous  keep-alive GET /info without a token, as fast as answers come (reconnects when closed)
//       badtoken   the same with a well-formed token that is not configured
//       silent     connections that never send a byte (reopened when dropped)
//       slowloris  connections that send a header line every 200 ms and never read
//       connect    connect, send nothing, close at once, again (a connection churn)
// Prints one JSON line { mode, responses, connections } when the time is up, then exits.
import { connect } from 'node:net';

const [port, mode, count, duration, token] = process.argv.slice(2);
const deadline = Date.now() + Number(duration);
let responses = 0;
let connections = 0;
const request = `GET /info HTTP/1.1\r\nHost: x\r\n${mode === 'badtoken' ? `Authorization: Bearer ${token}\r\n` : ''}\r\n`;

function open() {
  if (Date.now() > deadline) return;
  connections++;
  const socket = connect(Number(port), '127.0.0.1');
  socket.on('error', () => {});
  socket.on('close', () => setImmediate(open));
  if (mode === 'anonymous' || mode === 'badtoken') {
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk) => {
      const answers = chunk.toString('latin1').split('HTTP/1.1 ').length - 1;
      responses += answers;
      if (answers > 0 && !socket.destroyed && Date.now() < deadline) socket.write(request);
    });
  } else if (mode === 'slowloris') {
    socket.pause(); // never reads
    socket.on('connect', () => {
      socket.write('GET /info HTTP/1.1\r\n');
      const drip = setInterval(() => (socket.destroyed ? clearInterval(drip) : socket.write(`X-${connections}: y\r\n`)), 200);
    });
  } else if (mode === 'connect') {
    socket.on('connect', () => socket.destroy());
  }
}

for (let i = 0; i < Number(count); i++) open();
setTimeout(() => {
  console.log(JSON.stringify({ mode, responses, connections }));
  process.exit(0);
}, Number(duration)).unref();
setInterval(() => {}, 1000); // alive until the deadline
