// A download whose 200 and headers have gone out can still fail on the endpoint's side
// (the disk fills up while V8 writes the snapshot): the endpoint ends the empty body with
// the error in its `opsctl-error` trailer (see packages/endpoint/src/routes/heapdump.ts),
// and the CLI must say that, not "incomplete download", and write nothing. A server of
// our own plays that endpoint; the endpoint's side is tested in routes/workers.test.ts.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opsctl } from './support/processes.js';

const work = mkdtempSync(join(tmpdir(), 'opsctl-e2e-late-'));
let server: Server;
let env: Record<string, string>;

beforeAll(async () => {
  server = createServer((req, res) => {
    const instance = 'host; pid=1; start=2026-01-01T00:00:00.000Z';
    if (req.url?.startsWith('/memory')) {
      res
        .writeHead(200, { 'content-type': 'application/json', 'opsctl-instance': instance })
        .end(JSON.stringify({ process: { rss: 1 }, heap: {}, heapSpaces: [], limit: {} }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'opsctl-instance': instance, trailer: 'opsctl-error', 'opsctl-expected-pause-ms': '100' });
    res.addTrailers({
      'opsctl-error': JSON.stringify({ error: { code: 'LOW_DISK', message: 'Writing the heap snapshot into /var/tmp failed (no space left on the device).' } }),
    });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  env = { OPSCTL_URL: `http://127.0.0.1:${port}`, OPSCTL_TOKEN: 'opsctl_00000000000000000000000000000000000000000000ab', HOME: work };
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(work, { recursive: true, force: true });
});

describe('a snapshot that fails after its answer began', () => {
  it("is reported with the endpoint's reason from the trailer, and no file is written", async () => {
    const out = join(work, 'out');
    const run = await opsctl(['heapdump', '--out', `${out}/`], { env });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no space left on the device/);
    expect(run.stderr).not.toMatch(/incomplete|ended early/);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });
});
