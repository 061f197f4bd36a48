// The words a user sees, with the built binary against real applications: one
// vocabulary for durations and sizes on the command line, one unit system on screen,
// refusals in terms of flags and commands (never routes, query parameters or request
// bodies), and the same verbs everywhere (remove, logout NAME).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleApp, mintToken, opsctl, startApp, type RunningApp } from './support/processes.js';

const opsApp = fileURLToPath(new URL('./fixtures/ops-app.mjs', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'opsctl-e2e-vocabulary-'));
// What the endpoint's wire speaks, and the CLI must translate.
const HTTP_WORDS = /\b(GET|POST|DELETE)\b|\/actions\b|\/snapshots\b|the body\b|\bparameter (seconds|timeoutMs|intervalUs)\b|=true\b|skipMemoryCheck/;
let ops: RunningApp;
let shop: RunningApp;
let opsEnv: Record<string, string>;
let shopEnv: Record<string, string>;

beforeAll(async () => {
  const token = await mintToken('sre', 'admin');
  [ops, shop] = await Promise.all([
    startApp(opsApp, { OPSCTL_TOKENS: token.line, CAPTURE_DIR: join(work, 'captures'), CAPTURE_HEAP_ABOVE: String(2 ** 50) }),
    startApp(exampleApp, { OPSCTL_TOKENS: token.line }),
  ]);
  opsEnv = { OPSCTL_URL: ops.ops, OPSCTL_TOKEN: token.token };
  shopEnv = { OPSCTL_URL: shop.ops, OPSCTL_TOKEN: token.token };
});
afterAll(async () => {
  await Promise.all([ops?.stop(), shop?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

describe('durations and sizes on the command line', () => {
  it('take units, and a bare number is refused with the forms to use', async () => {
    const bare = await opsctl(['status', '--timeout', '10'], { env: opsEnv });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^error: option '--timeout <duration>' argument '10' is invalid\. give it a unit: 10s, 10ms or 10m\.$/m);
    for (const timeout of ['1500ms', '10s', '1m', '1m30s']) expect((await opsctl(['status', '--timeout', timeout], { env: opsEnv })).code, timeout).toBe(0);
    const interval = await opsctl(['leaks', '--diff', '--interval', '90'], { env: opsEnv });
    expect(interval.code).toBe(2);
    expect(interval.stderr).toMatch(/--interval <duration>.*give it a unit: 90s/);
    const size = await opsctl(['snapshots', 'get', 'x', '--limit-rate', 'fast'], { env: opsEnv });
    expect(size.code).toBe(2);
    expect(size.stderr).toMatch(/give a size such as 65536, 64KB or 1\.5MB/);
  });
});

describe('one unit system on screen', () => {
  it('prints decimal sizes (KB, MB) and never the binary ones beside them', async () => {
    // One after another: while a snapshot is written, what needs the main thread is refused at once.
    const outputs = [
      await opsctl(['snapshots', 'list'], { env: opsEnv }),
      await opsctl(['heapdump', '--out', `${work}/`], { env: shopEnv }),
      await opsctl(['leaks'], { env: shopEnv }),
    ];
    for (const run of outputs) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout + run.stderr).not.toMatch(/\b[KMG]iB\b/);
    }
    // The size printed is the file's in decimal megabytes, as `ls --si` and disks count.
    const [, path = '', printed = ''] = /written to (\S+) \((\d+(?:\.\d)?) MB, [\d,]+ objects\)/.exec(outputs[1]?.stdout ?? '') ?? [];
    const bytes = statSync(path).size;
    expect(printed).toBe((bytes / 1e6).toFixed(bytes >= 100e6 ? 0 : 1));
  });
});

describe('refusals in the words of the command line', () => {
  it('name flags and commands, never routes, parameters or bodies', async () => {
    const cases: { args: string[]; env: Record<string, string>; code: number; says: RegExp }[] = [
      {
        args: ['run', 'nope'],
        env: opsEnv,
        code: 2,
        says: /^error: the application has no action "nope"\nhint: list the application's actions: opsctl actions$/m,
      },
      { args: ['run', 'flush-cache', 'region=mars'], env: opsEnv, code: 2, says: /region/ },
      { args: ['run', 'wait', 'oops'], env: opsEnv, code: 2, says: /^hint: write parameters as key=value, e\.g\. opsctl run wait ms=oops; wait takes ms$/m },
      { args: ['snapshots', 'remove', 'nope'], env: opsEnv, code: 2, says: /^error: no captured heap snapshot has the id "nope"$/m },
      { args: ['heapdump', '--worker', 'nope', '--out', `${work}/`], env: opsEnv, code: 2, says: /^error: no running worker thread is registered as "nope"$/m },
      { args: ['repl', '-e', ''], env: shopEnv, code: 2, says: /^error: -e was given no code$/m },
      { args: ['repl', '-e', '1+'], env: shopEnv, code: 1, says: /^error: Uncaught SyntaxError: the code ends in the middle of an expression or statement$/m },
      { args: ['repl', '-e', 'throw 5'], env: shopEnv, code: 1, says: /^error: Uncaught 5$/m },
      { args: ['repl', '-e', '1', '--eval-timeout', '1m'], env: shopEnv, code: 2, says: /^error: --eval-timeout may be at most 5s/m },
    ];
    for (const { args, env, code, says } of cases) {
      const run = await opsctl(args, { env });
      expect(run.code, args.join(' ')).toBe(code);
      expect(run.stderr, args.join(' ')).toMatch(says);
      expect(run.stderr, args.join(' ')).not.toMatch(HTTP_WORDS);
    }
  });
});

describe('the same verbs everywhere', () => {
  it('snapshots remove (rm still works), and logout NAME like context remove NAME', async () => {
    expect((await opsctl(['snapshots', 'rm', 'nope'], { env: opsEnv })).stderr).toMatch(/no captured heap snapshot has the id "nope"/);
    const env = { OPSCTL_CONFIG_DIR: join(work, 'config') };
    const login = await opsctl(['login', ops.ops, '--name', 'staging', '--with-token', '--insecure-storage'], { env, stdin: opsEnv['OPSCTL_TOKEN'] });
    expect(login.code).toBe(0);
    const logout = await opsctl(['logout', 'staging'], { env });
    expect(logout.code).toBe(0);
    expect(logout.stdout).toMatch(/Logged out of "staging"; its token was deleted/);
  });
});
