// The login flow with the built binary against a real application process, with the
// token kept in a real Secret Service (gnome-keyring), in a file, or only in the
// environment; and what a machine without a keychain says.
import { cpSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliCopyWithout, exampleApp, mintToken, opsctl, opsctlBin, repoRoot, startApp, type RunningApp } from './support/processes.js';
import { missingSecretServiceReason, startSecretService, type SecretService } from './support/secret-service.js';
import { missingTmuxReason, TmuxSession } from './support/tmux.js';

let app: RunningApp;
let admin: { token: string; line: string };
let reader: { token: string; line: string };
const configDir = mkdtempSync(join(tmpdir(), 'opsctl-e2e-config-'));

beforeAll(async () => {
  admin = await mintToken('alice', 'admin');
  reader = await mintToken('ci', 'read');
  app = await startApp(exampleApp, { OPSCTL_TOKENS: `${admin.line};${reader.line}` });
});
afterAll(async () => {
  await app?.stop();
  rmSync(configDir, { recursive: true, force: true });
});

const missing = missingSecretServiceReason();
if (missing !== null) {
  if (process.env['CI']) throw new Error(`keychain tests cannot run in CI: ${missing}`);
  console.warn(`skipping keychain tests: ${missing}`);
}

describe.skipIf(missing !== null)('with the OS keychain (gnome-keyring Secret Service)', () => {
  let keyring: SecretService;
  let env: Record<string, string>;
  beforeAll(() => {
    keyring = startSecretService();
    env = { ...keyring.env, OPSCTL_CONFIG_DIR: join(configDir, 'keychain') };
  });
  afterAll(() => keyring?.stop());

  it('token new → app configured → login → status → context switch → logout', async () => {
    const login = await opsctl(['login', app.ops, '--name', 'prod', '--with-token'], { env, stdin: admin.token });
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    expect(login.stdout).toMatch(/as alice \(scopes: admin\)/);
    expect(login.stdout).toMatch(/OS keychain/);
    const stored = readFileSync(join(env['OPSCTL_CONFIG_DIR'] ?? '', 'config.json'), 'utf8');
    expect(stored).not.toContain(admin.token);
    expect(JSON.parse(stored).contexts.prod.credential).toBe('keychain');
    expect(existsSync(join(env['OPSCTL_CONFIG_DIR'] ?? '', 'credentials.json'))).toBe(false);

    expect((await opsctl(['login', app.ops, '--name', 'ci', '--with-token'], { env, stdin: reader.token })).code).toBe(0);
    const status = await opsctl(['status', '--json'], { env });
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      context: 'ci',
      tokenSource: 'keychain',
      caller: { token: 'ci' },
      instance: { pid: app.pid },
      keychain: { available: true, problem: null },
    });

    expect((await opsctl(['context', 'use', 'prod'], { env })).code).toBe(0);
    expect(JSON.parse((await opsctl(['status', '--json'], { env })).stdout).caller.token).toBe('alice');

    const logout = await opsctl(['logout'], { env });
    expect(logout.code).toBe(0);
    expect(logout.stdout).toMatch(/its token was deleted/);
    const after = await opsctl(['status', '--context', 'prod'], { env });
    expect(after.code).toBe(2);
    expect(after.stderr).toMatch(/no context named "prod"/);
  });

  it('stores nothing when the endpoint refuses the token', async () => {
    const { token } = await mintToken('mallory', 'admin');
    const login = await opsctl(['login', app.ops, '--name', 'bad', '--with-token'], { env, stdin: token });
    expect(login.code).toBe(3);
    const config = join(env['OPSCTL_CONFIG_DIR'] ?? '', 'config.json');
    expect(existsSync(config) ? JSON.parse(readFileSync(config, 'utf8')).contexts.bad : undefined).toBeUndefined();
  });
});

describe('without an OS keychain', () => {
  const headless = () => ({
    OPSCTL_CONFIG_DIR: join(configDir, `headless-${Math.random()}`),
    DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus',
    DISPLAY: '',
  });

  it('says so in one sentence, offers the alternatives, and stores nothing', async () => {
    const env = headless();
    const login = await opsctl(['login', app.ops, '--name', 'prod', '--with-token'], { env, stdin: admin.token });
    expect(login.code).toBe(1);
    expect(login.stderr).toMatch(/^error: no OS keychain: .+\nhint: set OPSCTL_URL and OPSCTL_TOKEN .* --insecure-storage/);
    expect(existsSync(join(env.OPSCTL_CONFIG_DIR, 'config.json'))).toBe(false);
  });

  it('works with --insecure-storage, and with the environment alone', async () => {
    const env = headless();
    expect((await opsctl(['login', app.ops, '--name', 'prod', '--with-token', '--insecure-storage'], { env, stdin: admin.token })).code).toBe(0);
    expect(JSON.parse((await opsctl(['status', '--json'], { env })).stdout).tokenSource).toBe('file');
    // The choice was made and warned about at login: status says it in its keychain line, with no warning.
    const status = await opsctl(['status'], { env });
    expect(status.stdout).toMatch(
      /^keychain {2}unavailable \(no D-Bus session .*\); this context's token is kept in a file, as chosen with --insecure-storage$/m,
    );
    expect(status.stderr).toBe('');
    const list = await opsctl(['context', 'list'], { env });
    expect(list.stderr).toBe('');
    const ci = await opsctl(['status', '--json'], { env: { ...headless(), OPSCTL_URL: app.ops, OPSCTL_TOKEN: reader.token } });
    expect(JSON.parse(ci.stdout)).toMatchObject({ tokenSource: 'environment', caller: { token: 'ci' } });
  });

  it('works when keytar is not installed at all', async () => {
    const { bin, remove } = cliCopyWithout(['keytar']);
    try {
      const env = headless();
      const login = await opsctl(['login', app.ops, '--name', 'prod', '--with-token'], { env, stdin: admin.token, bin });
      expect(login.code).toBe(1);
      expect(login.stderr).toMatch(/no OS keychain: keytar is not installed/);
      expect((await opsctl(['login', app.ops, '--name', 'prod', '--with-token', '--insecure-storage'], { env, stdin: admin.token, bin })).code).toBe(0);
      expect((await opsctl(['status'], { env, bin })).code).toBe(0);
    } finally {
      remove();
    }
  });
});

describe('login defaults', () => {
  const headless = () => ({
    OPSCTL_CONFIG_DIR: mkdtempSync(join(configDir, 'defaults-')),
    DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus',
    DISPLAY: '',
  });

  it('takes the URL and token from OPSCTL_URL and OPSCTL_TOKEN, and names the context host:port', async () => {
    const env = { ...headless(), OPSCTL_URL: app.ops, OPSCTL_TOKEN: reader.token };
    const login = await opsctl(['login', '--insecure-storage', '--json'], { env });
    expect(login.code).toBe(0);
    const host = new URL(app.ops).host;
    expect(JSON.parse(login.stdout)).toMatchObject({ context: host, url: app.ops.replace(/\/$/, ''), caller: { token: 'ci' } });
    expect(JSON.parse(readFileSync(join(env.OPSCTL_CONFIG_DIR, 'config.json'), 'utf8')).current).toBe(host);
  });

  it('says why the OS keychain is unavailable, in status and when login keeps the token in a file', async () => {
    const env = { ...headless(), OPSCTL_URL: app.ops, OPSCTL_TOKEN: reader.token };
    const login = await opsctl(['login', '--insecure-storage'], { env });
    expect(login.code).toBe(0);
    expect(login.stderr).toMatch(/^warning: the OS keychain is unavailable: no D-Bus session to reach a Secret Service/m);
    const status = await opsctl(['status'], { env });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      /^keychain {2}unavailable: no D-Bus session to reach a Secret Service .*; keep tokens in OPSCTL_TOKEN or log in with --insecure-storage$/m,
    );
  });

  it('refuses a token with a bad checksum before sending it anywhere', async () => {
    const env = { ...headless(), OPSCTL_URL: app.ops, OPSCTL_TOKEN: `${reader.token.slice(0, -1)}${reader.token.endsWith('A') ? 'B' : 'A'}` };
    const audited = app.stderr().length;
    const login = await opsctl(['login', '--insecure-storage'], { env });
    expect(login.code).toBe(3);
    expect(login.stderr).toMatch(/^error: OPSCTL_TOKEN is not an opsctl token .*checksum must match\); nothing was sent$/m);
    expect(app.stderr().length).toBe(audited);
  });

  it('will not replace an existing context off a terminal without --force', async () => {
    const env = headless();
    const first = await opsctl(['login', app.ops, '--name', 'prod', '--with-token', '--insecure-storage'], { env, stdin: admin.token });
    expect(first.code).toBe(0);
    const again = await opsctl(['login', app.ops, '--name', 'prod', '--with-token', '--insecure-storage'], { env, stdin: reader.token });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^error: a context named "prod" exists \(http:\/\/127\.0\.0\.1:\d+\); nothing was changed\nhint: pass --force to replace it/m);
    expect(JSON.parse((await opsctl(['status', '--json'], { env })).stdout).caller.token).toBe('alice');
    const forced = await opsctl(['login', app.ops, '--name', 'prod', '--with-token', '--insecure-storage', '--force'], { env, stdin: reader.token });
    expect(forced.code).toBe(0);
    expect(JSON.parse((await opsctl(['status', '--json'], { env })).stdout).caller.token).toBe('ci');
  });

  const noTmux = missingTmuxReason();
  it.skipIf(noTmux !== null)('asks before replacing an existing context on a terminal', async () => {
    const env = headless();
    expect((await opsctl(['login', app.ops, '--name', 'prod', '--with-token', '--insecure-storage'], { env, stdin: admin.token })).code).toBe(0);
    const login = `${process.execPath} ${opsctlBin} login ${app.ops} --name prod --insecure-storage`;
    const declined = new TmuxSession(login, { ...env, OPSCTL_TOKEN: reader.token });
    try {
      await declined.waitFor(/a context named "prod" exists \(.*\)\. Replace it\? \[y\/N\]/);
      declined.type('n');
      declined.keys('Enter');
      expect(await declined.waitFor(/\[exit \d+\]/)).toMatch(/kept the context "prod"; nothing was changed[\s\S]*\[exit 1\]/);
    } finally {
      declined.kill();
    }
    const accepted = new TmuxSession(login, { ...env, OPSCTL_TOKEN: reader.token });
    try {
      await accepted.waitFor(/Replace it\? \[y\/N\]/);
      accepted.type('y');
      accepted.keys('Enter');
      expect(await accepted.waitFor(/\[exit \d+\]/)).toMatch(/Logged in to .* as ci[\s\S]*\[exit 0\]/);
    } finally {
      accepted.kill();
    }
  });
});

describe('Ctrl-C at a login prompt', () => {
  it.skipIf(missingTmuxReason() !== null)('ends login with 130, as any interrupted command, and stores nothing', async () => {
    const env = { OPSCTL_CONFIG_DIR: mkdtempSync(join(configDir, 'interrupted-')) };
    const tmux = new TmuxSession(`${process.execPath} ${opsctlBin} login ${app.ops} --insecure-storage`, env);
    try {
      await tmux.waitFor(/Paste the token for 127\.0\.0\.1:\d+:/);
      tmux.keys('C-c');
      expect(await tmux.waitFor(/\[exit \d+\]/)).toMatch(/cancelled; nothing was stored[\s\S]*\[exit 130\]/);
      expect(existsSync(join(env.OPSCTL_CONFIG_DIR, 'config.json'))).toBe(false);
    } finally {
      tmux.kill();
    }
  });
});

describe('keytar installed but its native part not built (the optional build failed)', () => {
  it('is named as the reason, by login and by status', async () => {
    const copy = cliCopyWithout(['keytar']);
    try {
      const keytar = realpathSync(join(repoRoot, 'packages/cli/node_modules/keytar'));
      cpSync(keytar, join(dirname(dirname(copy.bin)), 'node_modules/keytar'), { recursive: true, filter: (source) => !source.includes('/build') });
      const env = { OPSCTL_CONFIG_DIR: mkdtempSync(join(configDir, 'unbuilt-')) };
      const login = await opsctl(['login', app.ops, '--with-token'], { env, stdin: admin.token, bin: copy.bin });
      expect(login.code).toBe(1);
      expect(login.stderr).toMatch(/^error: no OS keychain: keytar's native part was not built when opsctl was installed \(it needs libsecret-1-dev/m);
      const status = await opsctl(['status'], { env: { ...env, OPSCTL_URL: app.ops, OPSCTL_TOKEN: reader.token }, bin: copy.bin });
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(/^keychain {2}unavailable: keytar's native part was not built/m);
    } finally {
      copy.remove();
    }
  });
});
