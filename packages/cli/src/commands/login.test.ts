import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { auditSettled, startEndpoint, type TestEndpoint } from '../../../endpoint/test-support/index.js';
import { runCli, tempConfigDir } from '../../test-support/index.js';

let ep: TestEndpoint;
let config: ReturnType<typeof tempConfigDir>;
let env: Record<string, string>;

beforeAll(async () => {
  ep = await startEndpoint({ app: { name: 'shop', version: '2.0.0' } });
});
afterAll(() => ep.close());
beforeEach(() => {
  config = tempConfigDir();
  env = { OPSCTL_CONFIG_DIR: config.dir };
});
afterEach(() => config.remove());

const login = (token: string, name = 'local', extra: string[] = []) =>
  runCli(['login', ep.url, '--name', name, '--with-token', '--insecure-storage', ...extra], { env, stdin: `${token}\n` });

describe('login, status, contexts, logout (file storage)', () => {
  it('verifies the token, stores it, and reaches the target from then on', async () => {
    const loggedIn = await login(ep.tokens['reader'] ?? '');
    expect(loggedIn.code).toBe(0);
    expect(loggedIn.stdout).toMatch(/Logged in to .* as reader \(scopes: read\)/);
    expect(statSync(join(config.dir, 'credentials.json')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(config.dir, 'config.json'), 'utf8')).not.toContain('opsctl_');

    const status = await runCli(['status', '--json'], { env });
    expect(status.code).toBe(0);
    expect(status.stderr).toBe('');
    const result = JSON.parse(status.stdout);
    expect(result).toMatchObject({ context: 'local', tokenSource: 'file', caller: { token: 'reader', scopes: ['read'] } });
    expect(result.instance).toMatchObject({ pid: process.pid, app: { name: 'shop', version: '2.0.0' } });

    const human = await runCli(['status'], { env });
    expect(human.stdout).toMatch(/reachable/);
    expect(human.stdout).toMatch(/shop 2\.0\.0 on .*pid \d+/);
  });

  it('switches between contexts and removes one on logout with its token', async () => {
    await login(ep.tokens['reader'] ?? '', 'first');
    await login(ep.tokens['admin'] ?? '', 'second');
    expect((await runCli(['context', 'list'], { env })).stdout).toMatch(/^\s+first .*\n\* second /m);
    expect((await runCli(['context', 'use', 'first'], { env })).code).toBe(0);
    expect(JSON.parse((await runCli(['status', '--json'], { env })).stdout).caller.token).toBe('reader');
    expect(JSON.parse((await runCli(['status', '--json', '--context', 'second'], { env })).stdout).caller.token).toBe('admin');
    expect((await runCli(['context', 'show', '--json'], { env })).stdout).toContain('"name": "first"');

    const out = await runCli(['logout'], { env });
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/Logged out of "first"; its token was deleted/);
    expect(readFileSync(join(config.dir, 'credentials.json'), 'utf8')).not.toContain(ep.tokens['reader']);
    expect((await runCli(['status'], { env })).code).toBe(2);
    expect((await runCli(['context', 'remove', 'second'], { env })).code).toBe(0);
    expect(JSON.parse((await runCli(['context', 'list', '--json'], { env })).stdout)).toEqual([]);
  });

  it('prompts for the token without echo on a terminal', async () => {
    const run = await runCli(['login', ep.url, '--name', 'tty', '--insecure-storage'], { env, tty: true, stdin: `${ep.tokens['reader']}\r` });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('Paste the token for');
    expect(run.stderr).not.toContain(ep.tokens['reader']);
  });

  it('lets OPSCTL_URL and OPSCTL_TOKEN reach a target with no config at all', async () => {
    const run = await runCli(['status', '--json'], { env: { ...env, OPSCTL_URL: ep.url, OPSCTL_TOKEN: ep.tokens['heap'] } });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ context: null, tokenSource: 'environment', caller: { token: 'heap' } });
  });
});

describe('a refused token', () => {
  it('from OPSCTL_TOKEN is named as such: logging in again would not replace it', async () => {
    const { generateToken } = await import('@opsctl/endpoint/tokens');
    const run = await runCli(['status'], { env: { ...env, OPSCTL_URL: ep.url, OPSCTL_TOKEN: generateToken() } });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/error: the endpoint does not accept this token \(from OPSCTL_TOKEN\)/);
    expect(run.stderr).toMatch(/hint: .*OPSCTL_TOKEN/);
    expect(run.stderr).not.toMatch(/log in again/);
  });

  it('that lacks a scope names the command that needs it, not the route', async () => {
    const run = await runCli(['heapdump', '--out', `${config.dir}/`], { env: { ...env, OPSCTL_URL: ep.url, OPSCTL_TOKEN: ep.tokens['reader'] ?? '' } });
    expect(run.stderr).toMatch(/error: opsctl heapdump needs a token with the "heap" scope; "reader" has read/);
    expect(run.stderr).not.toMatch(/GET|\/heapdump/);
  });
});

describe('login stores nothing unless the endpoint accepts the token', () => {
  it('refuses a wrong token with exit 3', async () => {
    const { generateToken } = await import('@opsctl/endpoint/tokens');
    const run = await login(generateToken());
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/error: the endpoint does not accept this token/);
    expect(run.stderr).toMatch(/hint: /);
    expect(existsSync(join(config.dir, 'config.json'))).toBe(false);
    expect(existsSync(join(config.dir, 'credentials.json'))).toBe(false);
  });

  it('refuses something that is not a token with exit 3, before any request', async () => {
    await auditSettled(ep);
    const before = ep.events.length;
    const run = await login('hunter2');
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/not an opsctl token/);
    await auditSettled(ep);
    expect(ep.events).toHaveLength(before);
  });

  it('says so when stdin ends without a token, or is not a terminal', async () => {
    const empty = await runCli(['login', ep.url, '--name', 'x', '--with-token', '--insecure-storage'], { env, stdin: '' });
    expect(empty.code).toBe(3);
    expect(empty.stderr).toMatch(/no token on stdin/);
    const piped = await runCli(['login', ep.url, '--name', 'x', '--insecure-storage'], { env });
    expect(piped.code).toBe(3);
    expect(piped.stderr).toMatch(/stdin is not a terminal/);
  });

  it('refuses a malformed URL with exit 2', async () => {
    const run = await runCli(['login', 'htp:/nowhere', '--name', 'x', '--with-token', '--insecure-storage'], { env, stdin: 'x' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/not an http or https URL|is not a URL/);
  });
});

describe('bad targets and files', () => {
  it('names an unknown context and the known ones', async () => {
    await login(ep.tokens['reader'] ?? '', 'prod');
    const run = await runCli(['status', '--context', 'staging'], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no context named "staging"/);
    expect(run.stderr).toMatch(/prod/);
  });

  it('reports a corrupt config file by name and leaves it untouched', async () => {
    writeFileSync(join(config.dir, 'config.json'), '{"version":1,');
    const run = await login(ep.tokens['reader'] ?? '');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(join(config.dir, 'config.json'));
    expect(readFileSync(join(config.dir, 'config.json'), 'utf8')).toBe('{"version":1,');
  });

  it('refuses a credentials file that others may read', async () => {
    await login(ep.tokens['reader'] ?? '');
    chmodSync(join(config.dir, 'credentials.json'), 0o644);
    const run = await runCli(['status'], { env });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/may be read by other users \(mode 644\)/);
    expect(run.stderr).toMatch(/chmod 600/);
  });

  it('reports a closed port as unreachable with exit 4', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    const run = await runCli(['status'], { env: { ...env, OPSCTL_URL: `http://127.0.0.1:${closed}`, OPSCTL_TOKEN: ep.tokens['reader'] } });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/connection refused/);
  });

  it('gives up on a host that accepts but never answers, within --timeout', async () => {
    const silent: Server = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const started = Date.now();
    const run = await runCli(['status', '--timeout', '1s'], {
      env: { ...env, OPSCTL_URL: `http://127.0.0.1:${(silent.address() as { port: number }).port}`, OPSCTL_TOKEN: ep.tokens['reader'] },
    });
    silent.close();
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/did not answer within 1s/);
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('refuses plain http to a remote host before sending anything', async () => {
    const run = await runCli(['status'], { env: { ...env, OPSCTL_URL: 'http://192.0.2.1:9500', OPSCTL_TOKEN: ep.tokens['reader'] } });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/refusing to send a token over plain http/);
  });
});

describe('output', () => {
  it('colours a terminal, and not with NO_COLOR or in a pipe', async () => {
    const withEnv = { ...env, OPSCTL_URL: ep.url, OPSCTL_TOKEN: ep.tokens['reader'] };
    const esc = /\u001b\[/;
    expect((await runCli(['status'], { env: withEnv, tty: true })).stdout).toMatch(esc);
    expect((await runCli(['status'], { env: { ...withEnv, NO_COLOR: '1' }, tty: true })).stdout).not.toMatch(esc);
    expect((await runCli(['status', '--no-color'], { env: withEnv, tty: true })).stdout).not.toMatch(esc);
    expect((await runCli(['status'], { env: withEnv })).stdout).not.toMatch(esc);
  });

  it('shows a spinner on a terminal only', async () => {
    const tty = await runCli(['login', ep.url, '--name', 'a', '--with-token', '--insecure-storage'], { env, tty: true, stdin: `${ep.tokens['reader']}\n` });
    expect(tty.stderr).toMatch(/verifying the token/);
    const pipe = await login(ep.tokens['reader'] ?? '', 'b');
    expect(pipe.code).toBe(0);
    expect(pipe.stderr).not.toMatch(/verifying the token|\u001b/);
  });

  it('prints errors as one sentence and a hint, with no stack unless --verbose', async () => {
    const run = await runCli(['status', '--context', 'nope'], { env });
    expect(run.stderr.trim().split('\n')).toHaveLength(2);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    const verbose = await runCli(['status', '--context', 'nope', '--verbose'], { env });
    expect(verbose.stderr).toMatch(/\n\s+at /);
  });
});
