// A private, unlocked Secret Service for keychain tests: a D-Bus session bus of our own
// and gnome-keyring-daemon on it, as `dbus-run-session` + `gnome-keyring-daemon
// --unlock` would give, torn down after the tests. Where the programs are missing the
// tests are skipped with the reason printed, except in CI, where that is a failure.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SecretService {
  env: Record<string, string>;
  stop(): void;
}

export function missingSecretServiceReason(): string | null {
  for (const program of ['dbus-daemon', 'gnome-keyring-daemon']) {
    if (spawnSync('sh', ['-c', `command -v ${program}`]).status !== 0) {
      return `${program} is not installed (Debian: apt-get install dbus gnome-keyring libsecret-1-dev)`;
    }
  }
  return null;
}

export function startSecretService(): SecretService {
  const home = mkdtempSync(join(tmpdir(), 'opsctl-keyring-'));
  const [address = '', pid = ''] = execFileSync('dbus-daemon', ['--session', '--fork', '--print-address=1', '--print-pid=1'], { encoding: 'utf8' })
    .trim()
    .split('\n');
  const env = {
    DBUS_SESSION_BUS_ADDRESS: address,
    HOME: home,
    XDG_DATA_HOME: join(home, 'data'),
    XDG_RUNTIME_DIR: home,
  };
  // --unlock reads the login keyring's password from stdin and creates the keyring.
  execFileSync('gnome-keyring-daemon', ['--unlock', '--components=secrets'], {
    input: 'test-password\n',
    env: { ...process.env, ...env },
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  return {
    env,
    stop() {
      try {
        process.kill(Number(pid));
      } catch {
        // already gone
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}
