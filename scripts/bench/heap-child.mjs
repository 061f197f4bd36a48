// A child for pnpm bench:heapdump: builds HEAP_MB of small objects, then, by METHOD,
//   local     writes a heap snapshot itself (v8.writeHeapSnapshot: the floor) for each line
//             it reads on stdin, and prints { wallMs } (for a line `ping`, { pong: true })
//   classic   serves GET /dump the classic way: snapshot to a temp file, read it whole, res.end
//   endpoint  serves the opsctl endpoint (token hash in OPSCTL_TOKENS), and takes stdin lines
//             as `local` does, so that one process can be measured both ways
// The first local snapshot goes to KEEP_SNAPSHOT, left there, when given (the bench then
// measures the download's stages on it). It prints one JSON line when ready:
// { pid, url?, rssBytes, heapUsed }.
import { closeSync, fsyncSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { writeHeapSnapshot } from 'node:v8';
import { createMaintenanceEndpoint } from '@opsctl/endpoint';

const objects = Math.round((Number(process.env.HEAP_MB) * 1024 * 1024) / 130);
const retained = [];
for (let i = 0; i < objects; i++) retained.push({ id: i, name: `item ${i}`, tags: [i] });
globalThis.retained = retained;

const method = process.env.METHOD;
const ready = (extra) =>
  console.log(JSON.stringify({ pid: process.pid, rssBytes: process.memoryUsage.rss(), heapUsed: process.memoryUsage().heapUsed, ...extra }));

/** A local snapshot per stdin line; the parent resets VmHWM before it asks. */
function snapshotOnRequest() {
  let keep = process.env.KEEP_SNAPSHOT;
  createInterface({ input: process.stdin }).on('line', (line) => {
    // Answered from the event loop: the parent knows the loop is free again.
    if (line === 'ping') return console.log(JSON.stringify({ pong: true }));
    const file = keep || join(tmpdir(), `bench-local-${process.pid}.heapsnapshot`);
    const started = performance.now();
    writeHeapSnapshot(file);
    const wallMs = performance.now() - started;
    if (keep) {
      // On disk before the next snapshot: its write-back would otherwise overlap the rounds.
      const fd = openSync(keep, 'r');
      fsyncSync(fd);
      closeSync(fd);
    } else rmSync(file, { force: true });
    keep = undefined;
    console.log(JSON.stringify({ wallMs }));
  });
}

if (method === 'local') {
  snapshotOnRequest();
  ready({});
} else if (method === 'classic') {
  const server = createServer((_req, res) => {
    const file = join(tmpdir(), `bench-classic-${process.pid}.heapsnapshot`);
    writeHeapSnapshot(file);
    try {
      // Past 512 MB the whole file no longer fits in one string: the classic pattern fails.
      const text = readFileSync(file, 'utf8');
      res.writeHead(200, { 'content-type': 'application/json' }).end(text);
    } catch (error) {
      res.writeHead(500).end(error.code);
    } finally {
      rmSync(file, { force: true });
    }
  });
  server.listen(0, '127.0.0.1', () => ready({ url: `http://127.0.0.1:${server.address().port}` }));
} else {
  const ops = createMaintenanceEndpoint({ tokens: process.env.OPSCTL_TOKENS, port: 0, audit: false });
  const { url } = await ops.listen();
  snapshotOnRequest();
  ready({ url });
}
