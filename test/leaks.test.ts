// Leak detection end to end: real applications, the built binary. Slow by nature: the
// verdict never says `suspected` before its window spans 90 s after warm-up (112.5 s).
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../packages/endpoint/test-support/index.js';
import { mintToken, opsctl, opsctlBin, startApp, type RunningApp } from './support/processes.js';
import { missingTmuxReason, TmuxSession } from './support/tmux.js';

const leakApp = fileURLToPath(new URL('./fixtures/leak-app.mjs', import.meta.url));
let token: { token: string; line: string };
let leaking: RunningApp;
let caching: RunningApp;
let started: number;

beforeAll(async () => {
  token = await mintToken('ci', 'heap');
  started = Date.now();
  [leaking, caching] = await Promise.all([
    startApp(leakApp, { MODE: 'leak', OPSCTL_TOKENS: token.line }),
    startApp(leakApp, { MODE: 'cache', OPSCTL_TOKENS: token.line }),
  ]);
});
afterAll(async () => {
  await Promise.all([leaking?.stop(), caching?.stop()]);
});

const envFor = (app: RunningApp) => ({ OPSCTL_URL: app.ops, OPSCTL_TOKEN: token.token });

interface StreamLine {
  type: string;
  verdict?: { verdict: string };
  sample?: { time: number };
}

const noTmux = missingTmuxReason();
if (noTmux !== null) {
  if (process.env['CI']) throw new Error(`leak watch terminal tests cannot run in CI: ${noTmux}`);
  console.warn(`skipping the leak watch terminal test: ${noTmux}`);
}

describe('opsctl leaks against real applications', () => {
  it('suspects a 1 MB/s leak by 125 s, never a warming LRU cache over the same time, and --fail-on-leak exits 5 naming the next step', async () => {
    // On a terminal, the same leak watched live: it ticks between samples and names the next step.
    const terminal = noTmux === null ? new TmuxSession(`${process.execPath} ${opsctlBin} leaks --watch`, envFor(leaking), 150, 20) : null;
    // Watch the cache app for as long as the leak takes to be suspected.
    const cacheLevels = new Set<string>();
    const cacheWatch = spawn(process.execPath, [opsctlBin, 'leaks', '--watch'], { env: { PATH: process.env['PATH'], ...envFor(caching) } });
    cacheWatch.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        const parsed = JSON.parse(line) as StreamLine;
        if (parsed.verdict) cacheLevels.add(parsed.verdict.verdict);
      }
    });

    try {
      if (terminal !== null) {
        // "watching for Ns" moves on every second, whether or not a sample came.
        const watched = async () => Number(/watching for (\d+)s/.exec(await terminal.waitFor(/watching for \d+s/, 15_000))?.[1]);
        const first = await watched();
        await new Promise((r) => setTimeout(r, 2_500));
        expect(await watched()).toBeGreaterThan(first);
      }
      const run = await opsctl(['leaks', '--watch', '--fail-on-leak'], { env: envFor(leaking), timeoutMs: 300_000 });
      const elapsedSeconds = (Date.now() - started) / 1000;
      expect(run.code).toBe(5);
      expect(run.stderr).toMatch(/^error: leak suspected: /);
      expect(run.stderr).toMatch(/^hint: see what grows: opsctl leaks --diff/m);
      const lines = run.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as StreamLine);
      expect(lines[0]?.type).toBe('status');
      expect(lines.at(-1)?.verdict?.verdict).toBe('suspected');
      console.log(`1 MB/s leak suspected after ${elapsedSeconds.toFixed(0)} s`);
      // Never before the window spans 90 s after a 20% warm-up (112.5 s). How soon after is
      // measured by pnpm bench:leaks (docs/leak-detection.md); here only that it comes.
      expect(elapsedSeconds).toBeGreaterThan(110);
      expect(cacheLevels.has('suspected')).toBe(false);
      if (terminal !== null) {
        const screen = await terminal.waitFor(/^next +see what grows: opsctl leaks --diff/m, 15_000);
        expect(screen).toMatch(/^verdict +SUSPECTED/m);
      }
    } finally {
      cacheWatch.kill('SIGINT');
      terminal?.kill();
    }

    const cache = await opsctl(['leaks', '--json', '--fail-on-leak'], { env: envFor(caching) });
    expect(cache.code).toBe(0);
    expect(JSON.parse(cache.stdout).verdict.verdict).not.toBe('suspected');
  });

  it('says a fresh process has no verdict yet (unknown, with how long until one), never OK', async () => {
    const fresh = await startApp(leakApp, { MODE: 'leak', OPSCTL_TOKENS: token.line });
    try {
      const run = await opsctl(['leaks'], { env: envFor(fresh) });
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^verdict +UNKNOWN +not enough data yet/m);
      expect(run.stdout).not.toMatch(/\bOK\b/);
      expect(run.stdout).toMatch(
        /^next +warming up: \d+ more post-GC samples? before a verdict, about .+; a leak can be suspected in 1m \d+s at the earliest/m,
      );
      const json = JSON.parse((await opsctl(['leaks', '--json'], { env: envFor(fresh) })).stdout);
      expect(json.verdict).toMatchObject({ verdict: 'unknown', samplesNeeded: expect.any(Number), suspectPossibleAt: expect.any(Number) });
    } finally {
      await fresh.stop();
    }
  });

  it('says when the endpoint refused to force a GC for --gc, and when to ask again', async () => {
    const fresh = await startApp(leakApp, { OPSCTL_TOKENS: token.line });
    try {
      const first = await opsctl(['leaks', '--gc'], { env: envFor(fresh) });
      expect(first.code).toBe(0);
      expect(first.stderr).toBe('');
      const second = await opsctl(['leaks', '--gc'], { env: envFor(fresh) });
      expect(second.code).toBe(0);
      expect(second.stderr).toMatch(
        /^warning: the endpoint did not force a GC: a GC was forced [\d.]+ s ago, and at most one is forced per 5 s; ask again in \ds\./m,
      );
      const json = JSON.parse((await opsctl(['leaks', '--gc', '--json'], { env: envFor(fresh) })).stdout);
      expect(json.gcRequest).toMatchObject({ forced: false, refusal: { code: 'GC_TOO_SOON', retryAt: expect.any(Number) } });
    } finally {
      await fresh.stop();
    }
  });

  it.skipIf(spawnSync('sh', ['-c', 'command -v script']).status !== 0)(
    'prints plain lines, no cursor movement, on a terminal that reports 0 columns',
    async () => {
      // `script` gives the command a pty with no size, as `ssh -tt` and some CI runners do.
      const command = `${process.execPath} ${opsctlBin} leaks --watch`;
      const watcher = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
        env: { PATH: process.env['PATH'], ...envFor(caching) },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let output = '';
      watcher.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      // Colours may stay (they move nothing); each verdict line starts with the time.
      const verdictLines = () => (output.replace(/\u001b\[[\d;]*m/g, '').match(/^\d\d:\d\d:\d\d (UNKNOWN|OK|GROWING|SUSPECTED) /gm) ?? []).length;
      try {
        // The status line, then a sample within the gap (10 s) or so.
        const deadline = Date.now() + 30_000;
        while (verdictLines() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      } finally {
        watcher.kill('SIGKILL');
      }
      expect(verdictLines(), output).toBeGreaterThanOrEqual(2);
      // No cursor movement nor clearing: what breaks a terminal of unknown width.
      expect(output).not.toMatch(/\u001b\[[\d;]*[ABCDHJK]/);
    },
  );

  it('names the leaking class with --diff, from three snapshots of the target, and removes them', async () => {
    // A fresh app: snapshots of a small heap take a second, of the long-leaking one a minute.
    const fresh = await startApp(leakApp, { MODE: 'leak', LEAK_KB_PER_S: '256', OPSCTL_TOKENS: token.line });
    const keep = mkdtempSync(join(tmpdir(), 'opsctl-e2e-leakdiff-'));
    try {
      const run = await opsctl(['leaks', '--diff', '--interval', '2s', '--keep', keep, '--json'], { env: envFor(fresh), timeoutMs: 120_000 });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const report = JSON.parse(run.stdout);
      expect(report.kind).toBe('retained');
      // Near the top, beside its own strings and what a young process still compiles.
      const leaked = report.classes.slice(0, 3).find((c: { name: string }) => c.name === 'LeakedOrder');
      expect(leaked?.count).toBeGreaterThan(2_000);
      expect(readdirSync(keep).sort()).toEqual(['a.heapsnapshot.gz', 'b.heapsnapshot.gz', 'c.heapsnapshot.gz']);
      const temp = await opsctl(['leaks', '--diff', '--interval', '1s', '--limit', '3'], { env: envFor(fresh), timeoutMs: 120_000 });
      expect(temp.code).toBe(0);
      expect(temp.stdout).toMatch(/LeakedOrder/);
      // Its @ids point into snapshots it deleted: it names no deleted file, and says how to keep them.
      expect(temp.stdout).not.toMatch(/opsctl-leak-diff-/);
      expect(temp.stdout).toMatch(/examples \(@id in snapshot b and snapshot c\)/);
      expect(temp.stderr).toMatch(/the snapshots were deleted; to look these @ids up in Chrome DevTools, run again with --keep DIR/);
      expect(readdirSync(tmpdir()).filter((f) => f.startsWith('opsctl-leak-diff-'))).toEqual([]);
    } finally {
      await fresh.stop();
      rmSync(keep, { recursive: true, force: true });
    }
  });

  it('refuses --diff when the snapshots come from different processes, as behind a load balancer', async () => {
    const [one, two] = await Promise.all([startApp(leakApp, { OPSCTL_TOKENS: token.line }), startApp(leakApp, { OPSCTL_TOKENS: token.line })]);
    const balancer = await roundRobin([one.ops, two.ops]);
    try {
      const run = await opsctl(['leaks', '--diff', '--interval', '1s'], { env: { OPSCTL_URL: balancer.url, OPSCTL_TOKEN: token.token }, timeoutMs: 120_000 });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^error: snapshot b came from another process than snapshot a /m);
      expect(run.stderr).toContain(`pid=${one.pid};`);
      expect(run.stderr).toContain(`pid=${two.pid};`);
      expect(run.stderr).toMatch(/^hint: target one process/m);
      expect(readdirSync(tmpdir()).filter((f) => f.startsWith('opsctl-leak-diff-'))).toEqual([]);
    } finally {
      balancer.server.close();
      await Promise.all([one.stop(), two.stop()]);
    }
  });

  it('passes the leak check of opsctl check once the verdict is known', async () => {
    const run = await opsctl(['check', '--require-leak-verdict', '--json'], { env: envFor(caching) });
    expect(run.code).toBe(0);
    const leaks = JSON.parse(run.stdout).checks.find((c: { name: string }) => c.name === 'leaks');
    expect(leaks).toMatchObject({ status: 'pass', detail: expect.stringMatching(/^(ok|growing): /) });
  });

  it('ends the watch cleanly on Ctrl-C with exit 130, and the endpoint keeps no watcher', async () => {
    const watcher = spawn(process.execPath, [opsctlBin, 'leaks', '--watch'], { env: { PATH: process.env['PATH'], ...envFor(caching) } });
    await new Promise<void>((resolve) => watcher.stdout.once('data', () => resolve()));
    const during = JSON.parse((await opsctl(['leaks', '--json'], { env: envFor(caching) })).stdout);
    expect(during.watchers).toBeGreaterThanOrEqual(1);
    const exited = new Promise<number | null>((resolve) => watcher.once('exit', resolve));
    watcher.kill('SIGINT');
    expect(await exited).toBe(130);
    // The watch ends on the endpoint's thread, which then tells the main thread to unsubscribe.
    await waitFor(async () => JSON.parse((await opsctl(['leaks', '--json'], { env: envFor(caching) })).stdout).watchers === 0, 5_000);
  });
});

/** A loopback HTTP proxy sending each request to the next of `targets` in turn: a load balancer. */
async function roundRobin(targets: string[]): Promise<{ url: string; server: Server }> {
  let next = 0;
  const server = createServer((req, res) => {
    const target = new URL(req.url ?? '/', targets[next++ % targets.length]);
    const upstream = request(target, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.once('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
