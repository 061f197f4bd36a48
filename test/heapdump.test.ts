// opsctl heapdump with the built binary against real application processes.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  createReadStream,
  createWriteStream,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KERNEL_HEADER, kernelKey, type InfoResponse } from '../packages/endpoint/src/protocol/index.js';
import { validateHeapSnapshot } from '../packages/cli/src/heapsnapshot/validate.js';
import { waitFor } from '../packages/endpoint/test-support/index.js';
import { mintToken, opsctl, startApp, type RunningApp } from './support/processes.js';

const heapApp = fileURLToPath(new URL('./fixtures/heap-app.mjs', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'opsctl-e2e-heapdump-'));
const serverDir = join(work, 'server-tmp');
let token: { token: string; line: string };
let reader: { token: string; line: string };
const apps: RunningApp[] = [];

beforeAll(async () => {
  mkdirSync(serverDir);
  token = await mintToken('sre', 'heap');
  reader = await mintToken('viewer', 'read');
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function start(env: Record<string, string> = {}): Promise<{ app: RunningApp; env: Record<string, string> }> {
  const app = await startApp(heapApp, { OPSCTL_TOKENS: `${token.line};${reader.line}`, OPSCTL_HEAP_DIR: serverDir, ...env });
  apps.push(app);
  return { app, env: { OPSCTL_URL: app.ops, OPSCTL_TOKEN: token.token } };
}

function outDir(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

const leftovers = (dir: string) => readdirSync(dir).filter((f) => f.includes('opsctl-tmp') || f.startsWith('opsctl-heap-'));

/**
 * Keeps what V8 writes: a hard link to the endpoint's temp file, made as soon as the file
 * appears (before V8 starts writing it), outlives the endpoint's removal of it.
 */
async function keepV8File(into: string): Promise<string> {
  const kept = join(into, 'written-by-v8.heapsnapshot');
  await waitFor(() => {
    for (const dir of leftovers(serverDir)) {
      for (const name of readdirSync(join(serverDir, dir))) {
        linkSync(join(serverDir, dir, name), kept);
        return true;
      }
    }
    return false;
  }, 20_000);
  return kept;
}

async function sha256(path: string, gunzip = false): Promise<string> {
  const hash = createHash('sha256');
  if (gunzip) await pipeline(createReadStream(path), createGunzip(), hash);
  else await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

describe('opsctl heapdump', () => {
  it('writes a valid V8 heap snapshot, named after the app, host and pid', async () => {
    const { app, env } = await start({ HEAP_MB: '5' });
    const dir = outDir('valid');
    const run = await opsctl(['heapdump', '--out', `${dir}/`, '--json'], { env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.path).toMatch(new RegExp(`/heap-app-.+-${app.pid}-\\d{8}T\\d{6}Z\\.heapsnapshot$`));
    const counts = await validateHeapSnapshot(result.path);
    expect(counts.nodeCount).toBe(result.nodes);
    expect(counts.nodeCount).toBeGreaterThan(40_000);
    expect(result.instance).toContain(`pid=${app.pid}`);
    // On the app's machine: uncompressed, and the CLI stepped aside for V8's writer.
    expect(result.stages).toMatchObject({ wireEncoding: 'identity', lowPriority: true });
    expect(leftovers(dir)).toEqual([]);
    expect(readdirSync(serverDir)).toEqual([]);
  });

  it('writes exactly the bytes V8 wrote, 0600, plain or with --gzip', async () => {
    const { env } = await start({ HEAP_MB: '5' });
    for (const gzip of [false, true]) {
      const dir = outDir(`identical-${gzip}`);
      const kept = keepV8File(dir);
      const path = join(dir, `dump.heapsnapshot${gzip ? '.gz' : ''}`);
      const run = await opsctl(['heapdump', '--out', path, ...(gzip ? ['--gzip'] : [])], { env });
      expect(run.code).toBe(0);
      expect(await sha256(path, gzip)).toBe(await sha256(await kept));
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(leftovers(dir)).toEqual([]);
    }
  });

  it("sends gzip to a client on another machine, which still gets V8's bytes", async () => {
    const { app } = await start({ HEAP_MB: '5' });
    const dir = outDir('identical-gzip-wire');
    const kept = keepV8File(dir);
    const path = join(dir, 'wire.gz');
    const encoding = await new Promise<string | undefined>((resolve, reject) => {
      request(
        `${app.ops}/heapdump`,
        { headers: { authorization: `Bearer ${token.token}`, 'accept-encoding': 'gzip', [KERNEL_HEADER]: 'some-other-machine-0000000000000' } },
        (res) => {
          pipeline(res, createWriteStream(path)).then(() => resolve(res.headers['content-encoding']), reject);
        },
      )
        .on('error', reject)
        .end();
    });
    expect(encoding).toBe('gzip');
    expect(await sha256(path, true)).toBe(await sha256(await kept));
  });

  it('sends the snapshot while V8 is still writing it: its first bytes arrive while the endpoint says the snapshot is in progress', async () => {
    const { app } = await start({ HEAP_MB: '60' });
    const inProgress = await new Promise<InfoResponse['mainThread']['snapshot']>((resolve, reject) => {
      request(`${app.ops}/heapdump`, { headers: { authorization: `Bearer ${token.token}`, [KERNEL_HEADER]: kernelKey() ?? '' } }, (res) => {
        res.once('data', () => {
          res.pause();
          fetch(`${app.ops}/info`, { headers: { authorization: `Bearer ${token.token}` } })
            .then((info) => info.json() as Promise<InfoResponse>)
            .then((info) => {
              resolve(info.mainThread.snapshot);
              res.resume();
            }, reject);
        });
        res.on('error', reject);
      })
        .on('error', reject)
        .end();
    });
    expect(inProgress).toMatchObject({ elapsedMs: expect.any(Number), expectedMs: expect.any(Number) });
  });

  it('keeps it gzip-compressed with --gzip, and still verifies it', async () => {
    const { env } = await start({ HEAP_MB: '5' });
    const path = join(outDir('gzip'), 'snap.heapsnapshot.gz');
    const run = await opsctl(['heapdump', '--out', path, '--gzip'], { env });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(path);
    expect((await validateHeapSnapshot(path)).nodeCount).toBeGreaterThan(40_000);
  });

  it('refuses a second concurrent dump with 429 while the first runs, and the first completes', async () => {
    const { env } = await start({ HEAP_MB: '60' });
    const dir = outDir('concurrent');
    const first = opsctl(['heapdump', '--out', join(dir, 'first.heapsnapshot')], { env, timeoutMs: 120_000 });
    await waitFor(() => leftovers(serverDir).length > 0, 20_000); // the first snapshot is being written
    const second = await opsctl(['heapdump', '--out', join(dir, 'second.heapsnapshot')], { env });
    expect(second.code).toBe(1);
    // While V8 writes the first, the main thread is blocked: the endpoint's own thread says so at once.
    expect(second.stderr).toMatch(/already running|is writing a heap snapshot/);
    expect(second.stderr).toMatch(/try again in \d+s/);
    expect((await first).code).toBe(0);
    expect(existsSync(join(dir, 'second.heapsnapshot'))).toBe(false);
    expect(leftovers(dir)).toEqual([]);
  });

  it('leaves no file at PATH and exits non-zero when the app dies mid-dump', async () => {
    const { app, env } = await start({ HEAP_MB: '60' });
    const dir = outDir('killed');
    const path = join(dir, 'dump.heapsnapshot');
    const run = opsctl(['heapdump', '--out', path], { env, timeoutMs: 60_000 });
    await waitFor(() => leftovers(serverDir).length > 0, 20_000);
    app.child.kill('SIGKILL');
    const result = await run;
    expect(result.code).not.toBe(0);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/the connection to the process at .* was lost after .*; it may have exited or restarted; no file was written/);
    expect(existsSync(path)).toBe(false);
    expect(leftovers(dir)).toEqual([]);
    // The killed app could not clean up; the next one on the same directory does, at start.
    expect(leftovers(serverDir)).not.toEqual([]);
    await start({ HEAP_MB: '1' });
    await waitFor(() => leftovers(serverDir).length === 0, 5_000);
  });

  it('leaves no file at PATH when the app dies with the download under way', async () => {
    const { app, env } = await start({ HEAP_MB: '60' });
    const dir = outDir('killed-mid-stream');
    const path = join(dir, 'dump.heapsnapshot');
    const run = opsctl(['heapdump', '--out', path], { env, timeoutMs: 60_000 });
    // The CLI's temp file holds bytes: V8 is writing, and they are arriving.
    await waitFor(() => readdirSync(dir).some((name) => name.includes('opsctl-tmp') && statSync(join(dir, name)).size > 0), 30_000);
    app.child.kill('SIGKILL');
    const result = await run;
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/the connection to the process at .* was lost after [\d.]+ [kM]B; it may have exited or restarted; no file was written/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses under a small memory limit with LOW_MEMORY, and writes nothing', async () => {
    const { env } = await start({ HEAP_MB: '20', OPSCTL_MEMORY_LIMIT: String(200 * 1024 * 1024) });
    const dir = outDir('low-memory');
    const run = await opsctl(['heapdump', '--out', `${dir}/`], { env });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/would need about [\d.]+ MB more memory, but only [\d.]+ [MK]?B is left under the configured limit of 210 MB/);
    expect(run.stderr).toMatch(/^hint: pass --skip-memory-check to take the risk/m);
    expect(run.stderr).not.toMatch(/skipMemoryCheck/);
    expect(readdirSync(dir)).toEqual([]);
    expect(readdirSync(serverDir)).toEqual([]);
  });

  it('refuses a missing directory, an existing file without --force, and a read-only directory', async () => {
    const { env } = await start();
    const missing = await opsctl(['heapdump', '--out', join(work, 'nope', 'x.heapsnapshot')], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/directory .*nope does not exist/);

    const dir = outDir('exists');
    writeFileSync(join(dir, 'taken.heapsnapshot'), 'keep me');
    const exists = await opsctl(['heapdump', '--out', join(dir, 'taken.heapsnapshot')], { env });
    expect(exists.code).toBe(2);
    expect(exists.stderr).toMatch(/already exists.*\n.*--force/);
    expect(readdirSync(dir)).toEqual(['taken.heapsnapshot']);
    expect((await opsctl(['heapdump', '--out', join(dir, 'taken.heapsnapshot'), '--force'], { env })).code).toBe(0);

    const readOnly = makeReadOnlyDir(outDir('read-only'));
    try {
      const denied = await opsctl(['heapdump', '--out', `${readOnly.dir}/`], { env });
      expect(denied.code).toBe(1);
      expect(denied.stderr).toMatch(/cannot write to .*read-only: (permission denied|read-only file system)/);
      expect(readdirSync(readOnly.dir)).toEqual([]);
      expect(readdirSync(serverDir)).toEqual([]);
    } finally {
      readOnly.restore();
    }
  });
});

/**
 * A directory this process cannot write: mode 0555, or for root (which ignores modes)
 * a read-only tmpfs mounted over it.
 */
function makeReadOnlyDir(dir: string): { dir: string; restore(): void } {
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o555);
    return { dir, restore: () => chmodSync(dir, 0o755) };
  }
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', dir]);
  return { dir, restore: () => execFileSync('umount', [dir]) };
}

describe('opsctl heapdump against an endpoint pacing its snapshots', () => {
  // A server of our own stands in for the endpoint, so that the refusal comes every time:
  // the first GET /heapdump is refused as the endpoint paces snapshots
  // (packages/endpoint/src/diagnostics/snapshot-preflight.ts), the next is answered.
  const asked: string[] = [];
  let snapshot: string;
  let url: string;
  let close: () => void;
  beforeAll(async () => {
    snapshot = join(work, 'fake-endpoint.heapsnapshot');
    execFileSync(process.execPath, ['-e', `require('v8').writeHeapSnapshot(${JSON.stringify(snapshot)})`]);
    const { createServer } = await import('node:http');
    let retryInMs = 0;
    let refuseForever = false;
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/memory') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ process: { rss: 1 } }));
      if (path === '/pace') {
        retryInMs = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms'));
        refuseForever = new URL(req.url ?? '/', 'http://x').searchParams.has('forever');
        return res.end();
      }
      asked.push(path);
      if (path !== '/heapdump') return res.writeHead(404).end();
      if (retryInMs > 0 || refuseForever) {
        const ms = retryInMs;
        if (!refuseForever) retryInMs = 0;
        const message = `The previous heap snapshot paused the application for ${(ms / 1000).toFixed(1)} s; the next may start in ${(ms / 1000).toFixed(1)} s.`;
        return res
          .writeHead(429, { 'content-type': 'application/json', 'retry-after': String(Math.ceil(ms / 1000)) })
          .end(JSON.stringify({ error: { code: 'BUSY', message, details: { retryInMs: ms, previousPauseMs: ms } } }));
      }
      res.writeHead(200, { 'content-type': 'application/json', 'content-disposition': 'attachment; filename="fake.heapsnapshot"' });
      createReadStream(snapshot).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address() as { port: number };
    url = `http://127.0.0.1:${address.port}`;
    close = () => server.close();
  });
  afterAll(() => close?.());

  it('waits out a short pacing refusal and takes the snapshot', async () => {
    await fetch(`${url}/pace?ms=300`);
    asked.length = 0;
    const dir = outDir('paced');
    const run = await opsctl(['heapdump', '--out', `${dir}/`], { env: { OPSCTL_URL: url, OPSCTL_TOKEN: token.token } });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(asked).toEqual(['/heapdump', '/heapdump']);
    expect(readdirSync(dir)).toEqual(['fake.heapsnapshot']);
  });

  it('asks again at most every 250 ms when a hostile endpoint keeps answering "retry in 0 ms"', async () => {
    await fetch(`${url}/pace?ms=0&forever`);
    asked.length = 0;
    const dir = outDir('paced-zero');
    const running = opsctl(['heapdump', '--out', `${dir}/`], { env: { OPSCTL_URL: url, OPSCTL_TOKEN: token.token } });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const askedIn2s = asked.length;
    await fetch(`${url}/pace?ms=0`); // answered now: the run ends
    const run = await running;
    expect(askedIn2s).toBeGreaterThanOrEqual(2);
    expect(askedIn2s).toBeLessThanOrEqual(10);
    expect(run.code).toBe(0);
    expect(readdirSync(dir)).toEqual(['fake.heapsnapshot']);
  });

  it("gives up at once, with the endpoint's sentence, when the wait would be longer than it waits", async () => {
    await fetch(`${url}/pace?ms=${10 * 60_000}`);
    asked.length = 0;
    const dir = outDir('paced-long');
    const run = await opsctl(['heapdump', '--out', `${dir}/`], { env: { OPSCTL_URL: url, OPSCTL_TOKEN: token.token } });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/^error: the previous heap snapshot paused the application for 600\.0 s; the next may start in 600\.0 s$/m);
    expect(asked).toEqual(['/heapdump']);
    expect(readdirSync(dir)).toEqual([]);
  });
});
