// An endpoint that attacks its operator, played by a server of our own: every string
// it sends carries terminal control sequences (screen clears, window titles, OSC 52
// clipboard writes, the one-character CSI U+009B, bidirectional overrides), and the
// names it gives for files try to climb out of --out. The built binary must print
// none of those sequences and write nothing outside --out. Also: a token typed where
// a URL belongs is never echoed back.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opsctl, opsctlBin } from './support/processes.js';
import { missingScriptReason, ScriptPty } from './support/script-pty.js';

// Sequences a terminal acts on: clear the screen, set the title, write the clipboard,
// CSI in one character, and a right-to-left override that reorders what is shown.
const EVIL = '\u001b[2J\u001b]0;pwned\u0007\u001b]52;c;cHduZWQ=\u0007\u009b31m\u202e';
const ANY_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const work = mkdtempSync(join(tmpdir(), 'opsctl-e2e-malicious-'));
let server: Server;
let env: Record<string, string>;

const INSTANCE = `evil-host${'\u009b'}2J; pid=1; start=2026-01-01T00:00:00.000Z`;

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'opsctl-instance': INSTANCE, ...headers }).end(JSON.stringify(body));
}

function answer(req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const instance = {
    host: `host${EVIL}`,
    pid: 1,
    startTime: '2026-01-01T00:00:00.000Z',
    uptimeSeconds: 5,
    node: `v20${EVIL}`,
    v8: '1',
    platform: 'linux',
    arch: 'x64',
    app: { name: `shop${EVIL}`, version: `1${EVIL}` },
  };
  switch (path) {
    case '/info':
      return send(res, 200, {
        protocol: 1,
        instance,
        caller: { token: `alice${EVIL}`, scopes: ['admin'] },
        capabilities: [`heapdump${EVIL}`],
        capture: null,
        workers: [{ name: `w${EVIL}`, threadId: 2 }],
      });
    case '/actions':
      return send(res, 200, {
        actions: [
          {
            name: `wipe${EVIL}`,
            description: `Wipes${EVIL}`,
            params: { [`k${EVIL}`]: { type: 'string', description: null, required: false, secret: false } },
            timeoutMs: 1000,
            concurrency: 1,
          },
        ],
      });
    case '/actions/boom':
      return send(res, 422, { error: { code: 'ACTION_FAILED', message: `It failed${EVIL}.` } });
    case '/eval':
      return send(res, 200, { ok: true, result: `42${EVIL}`, type: 'string', output: `printed${EVIL}\n`, durationMs: 1 });
    case '/snapshots':
      return send(res, 200, {
        snapshots: [
          {
            id: 'climb',
            time: '2026-01-01T00:00:00.000Z',
            rule: 'heap-above',
            reason: `r${EVIL}`,
            bytes: 10,
            sha256: '../../../../escaped',
            snapshotBytes: 10,
            heapUsedBytes: 10,
            pauseMs: 1,
            app: 'a',
            host: 'h',
            pid: 1,
          },
        ],
        capture: {
          enabled: true,
          disabledReason: null,
          dir: `/d${EVIL}`,
          rules: { heapAboveBytes: 1, onLeakSuspected: false, nearHeapLimitRatio: null },
          cooldownMs: 1000,
          maxCount: 3,
          maxDiskBytes: 1000,
          count: 1,
          diskBytes: 10,
          lastEvent: null,
        },
      });
    case '/profile/cpu':
      // A name that climbs out of --out, for a file that would otherwise be valid.
      return send(
        res,
        200,
        { nodes: [{ id: 1 }], startTime: 0, endTime: 1, samples: [] },
        { 'content-disposition': 'attachment; filename="../../climbed.cpuprofile"', 'opsctl-profile-seconds': '1' },
      );
    case '/report':
      return send(res, 200, { header: { host: '../../../climbed', processId: 1, nodejsVersion: `v20${EVIL}` } });
    case '/repl':
      return send(res, 200, { sessions: 0, maxSessions: 1, evalTimeoutMs: 5000, idleTimeoutMs: 60_000, prompt: `evil${EVIL}> ` });
    default:
      return send(res, 404, { error: { code: 'NOT_FOUND', message: `No such route${EVIL}.` } });
  }
}

beforeAll(async () => {
  server = createServer(answer);
  server.on('upgrade', (_req, socket: Socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: opsctl-repl\r\nconnection: Upgrade\r\n\r\n');
    // What a REPL draws with (a coloured prompt) must pass; the rest must not. Split
    // across writes, so that a filter has to carry its state between chunks.
    socket.write('\u001b[32mkept> \u001b[39m\u001b]0;pwn');
    setTimeout(() => socket.write(`ed\u0007\u001b]52;c;cHduZWQ=\u0007\u009b2Jtail${'\u202e'}\r\n`), 50);
    setTimeout(() => socket.end(), 100);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  env = { OPSCTL_URL: `http://127.0.0.1:${(server.address() as { port: number }).port}`, OPSCTL_TOKEN: 'opsctl_anything' };
});
afterAll(() => {
  server?.close();
  rmSync(work, { recursive: true, force: true });
});

function outDir(name: string): string {
  const dir = join(work, name, 'out');
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('an endpoint that sends terminal control sequences', () => {
  it('cannot reach the terminal through status, actions, run, snapshots list or repl -e', async () => {
    for (const args of [['status'], ['actions'], ['run', 'boom'], ['snapshots', 'list'], ['repl', '-e', '1'], ['nothing-here']]) {
      const run = await opsctl(args, { env });
      expect(run.stdout + run.stderr, args.join(' ')).not.toMatch(ANY_CONTROL);
    }
    const status = await opsctl(['status'], { env });
    expect(status.stdout).toMatch(/caller {4}alice/);
    expect(status.stdout).toContain('shop');
  });

  it('cannot reach it through --json either: JSON escapes what a terminal would act on', async () => {
    const run = await opsctl(['status', '--json'], { env });
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(ANY_CONTROL);
    expect(JSON.parse(run.stdout).caller.token).toMatch(/^alice/);
  });

  it.skipIf(missingScriptReason() !== null)('keeps what an interactive REPL draws with, and drops titles, clipboard writes and C1 controls', async () => {
    const pty = new ScriptPty(`${process.execPath} ${opsctlBin} repl`, env);
    try {
      await pty.exited;
      expect(pty.output).toContain('\u001b[32mkept> \u001b[39m');
      expect(pty.output).toContain('tail');
      expect(pty.output).not.toMatch(/\u001b\]|\u009b|\u202e|pwned|cHduZWQ/);
    } finally {
      pty.kill();
    }
  });
});

describe('an endpoint that names files outside --out', () => {
  it('cannot steer snapshots get with the checksum it lists', async () => {
    const dir = outDir('sha');
    const run = await opsctl(['snapshots', 'get', 'climb', '--out', `${dir}/`], { env });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/listed "climb" with an id, checksum or size that is not valid; nothing was written/);
    expect(readdirSync(dirname(dir))).toEqual(['out']);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('cannot steer profile or report with the names it suggests', async () => {
    const dir = outDir('names');
    expect((await opsctl(['profile', 'cpu', '--duration', '1s', '--out', `${dir}/`], { env })).code).toBe(0);
    expect((await opsctl(['report', '--out', `${dir}/`], { env })).code).toBe(0);
    expect(readdirSync(dirname(dir))).toEqual(['out']);
    const written = readdirSync(dir);
    expect(written).toHaveLength(2);
    expect(written).toContain('climbed.cpuprofile');
    expect(written).toContainEqual(expect.stringMatching(/^report-climbed-1-\d{8}T\d{6}Z\.json$/));
    expect(existsSync(join(work, 'climbed.cpuprofile'))).toBe(false);
  });
});

describe('a token typed where it does not belong', () => {
  const token = `opsctl_${'A1b2C3d4E5'.repeat(4)}xyzXYZ`;

  it('is masked in the error and the user is told to revoke it', async () => {
    for (const args of [['login', token], ['--url', token, 'status'], [token]]) {
      const run = await opsctl(args, { env: { OPSCTL_CONFIG_DIR: join(work, 'config') } });
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stdout + run.stderr).not.toContain(token.slice(7, 20));
      expect(run.stderr).toMatch(/opsctl_…\(token hidden\)/);
      expect(run.stderr).toMatch(/a token was given on the command line, so it is in your shell history: revoke it/);
    }
  });
});
