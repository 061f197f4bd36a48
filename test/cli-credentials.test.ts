// The login flow with the built binary against a real application process, with the
// token kept in a real Secret Service (gnome-keyring), in a file, or only in the
// environment; and what a machine without a keychain says.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliCopyWith, exampleApp, mintToken, opsctl, startApp, type RunningApp } from './support/processes.js';
import { missingSecretServiceReason, startSecretService, type SecretService } from './support/secret-service.js';

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
    expect(JSON.parse(status.stdout)).toMatchObject({ context: 'ci', tokenSource: 'keychain', caller: { token: 'ci' }, instance: { pid: app.pid } });

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
  const headless = () => ({ OPSCTL_CONFIG_DIR: join(configDir, `headless-${Math.random()}`), DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus', DISPLAY: '' });

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
    const ci = await opsctl(['status', '--json'], { env: { ...headless(), OPSCTL_URL: app.ops, OPSCTL_TOKEN: reader.token } });
    expect(JSON.parse(ci.stdout)).toMatchObject({ tokenSource: 'environment', caller: { token: 'ci' } });
  });

  it('works when keytar is not installed at all', async () => {
    const { bin, remove } = cliCopyWith(['commander', 'undici', 'ora', 'chalk', '@opsctl/endpoint']);
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
