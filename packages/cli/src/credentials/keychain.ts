// The OS keychain through keytar, loaded only when a command needs a stored token
// (native load costs start-up; keytar is optional and may be absent). Every call has a
// timeout, because a D-Bus Secret Service can hang instead of answering. A locked or
// absent keyring makes keytar's getPassword resolve null, exactly like "no such
// secret", so login probes the keychain with a sentinel before trusting it.
import { CliError } from '../errors.js';
import type { CredentialStore } from './store.js';

const SERVICE = 'opsctl';
export const KEYCHAIN_TIMEOUT_MS = 5_000;

type Keytar = typeof import('keytar');

const FIX_HINT = 'set OPSCTL_URL and OPSCTL_TOKEN in the environment, or log in with --insecure-storage to keep the token in a mode-0600 file';

async function loadKeytar(): Promise<Keytar> {
  try {
    const module = (await import('keytar')) as Keytar & { default?: Keytar };
    return module.default ?? module;
  } catch (error) {
    throw new CliError('KEYCHAIN_UNAVAILABLE', `no OS keychain: ${whyKeytarDidNotLoad(error)}`, { hint: FIX_HINT, cause: error });
  }
}

/** Why keytar did not load, as the fix needs it said: not installed, not built, or libsecret missing. */
function whyKeytarDidNotLoad(error: unknown): string {
  const message = (error as Error).message ?? String(error);
  if (/libsecret/.test(message)) return 'libsecret is not installed (Debian: apt-get install libsecret-1-0)';
  if (/keytar\.node/.test(message))
    return "keytar's native part was not built when opsctl was installed (it needs libsecret-1-dev; install it and reinstall opsctl)";
  if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND')
    return 'keytar is not installed (an optional dependency; its build needs libsecret-1-dev)';
  return message.split('\n')[0] ?? message;
}

/** Why the Secret Service cannot be reached, from keytar's (libsecret's) error. */
function whySecretServiceFailed(error: unknown): string {
  const message = (error as Error).message?.split('\n')[0] ?? String(error);
  if (/D-Bus|dbus|Could not connect/i.test(message)) return `no D-Bus session to reach a Secret Service (a headless or SSH session?): ${message}`;
  if (/org\.freedesktop\.secrets|\.service files/.test(message)) return `no Secret Service runs on D-Bus (gnome-keyring or KeePassXC provide one): ${message}`;
  return message;
}

/**
 * Why the OS keychain cannot be used, or null when it answers. Reads only (a locked
 * keyring still reads as "no secret": login's probeKeychain writes to find out).
 */
export async function keychainProblem(): Promise<string | null> {
  let keytar: Keytar;
  try {
    keytar = await loadKeytar();
  } catch (error) {
    return (error as Error).message.replace(/^no OS keychain: /, '');
  }
  return withTimeout(keytar.getPassword(SERVICE, 'opsctl-availability'), 'a read').then(
    () => null,
    (error: unknown) => (error instanceof CliError ? error.message.replace(/^no OS keychain: /, '') : whySecretServiceFailed(error)),
  );
}

function withTimeout<T>(operation: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new CliError('KEYCHAIN_UNAVAILABLE', `no OS keychain: the Secret Service did not answer ${what} within ${KEYCHAIN_TIMEOUT_MS / 1000} s`, {
            hint: FIX_HINT,
          }),
        ),
      KEYCHAIN_TIMEOUT_MS,
    );
    timer.unref();
  });
  return Promise.race([operation, timeout]).finally(() => clearTimeout(timer));
}

function unavailable(error: unknown): CliError {
  if (error instanceof CliError) return error;
  return new CliError('KEYCHAIN_UNAVAILABLE', `no OS keychain: ${whySecretServiceFailed(error)}`, { hint: FIX_HINT, cause: error });
}

class KeychainStore implements CredentialStore {
  readonly kind = 'keychain' as const;
  readonly description = 'the OS keychain';
  readonly #keytar: Keytar;

  constructor(keytar: Keytar) {
    this.#keytar = keytar;
  }

  get(context: string): Promise<string | null> {
    return withTimeout(this.#keytar.getPassword(SERVICE, context), 'a read').catch((e) => Promise.reject(unavailable(e)));
  }

  set(context: string, token: string): Promise<void> {
    return withTimeout(this.#keytar.setPassword(SERVICE, context, token), 'a write').catch((e) => Promise.reject(unavailable(e)));
  }

  delete(context: string): Promise<boolean> {
    return withTimeout(this.#keytar.deletePassword(SERVICE, context), 'a delete').catch((e) => Promise.reject(unavailable(e)));
  }
}

/** The keychain, for reading a token already stored there. */
export async function openKeychain(): Promise<CredentialStore> {
  return new KeychainStore(await loadKeytar());
}

/**
 * The keychain, proven writable and readable by a sentinel round trip: how login tells
 * a working keychain from a locked or absent one, which keytar reports as "no secret".
 */
export async function probeKeychain(): Promise<CredentialStore> {
  const store = new KeychainStore(await loadKeytar());
  const account = `opsctl-probe-${process.pid}`;
  const value = `probe-${Date.now()}`;
  await store.set(account, value);
  const read = await store.get(account);
  await store.delete(account);
  if (read !== value) throw new CliError('KEYCHAIN_UNAVAILABLE', 'no OS keychain: the keyring is locked or does not keep secrets', { hint: FIX_HINT });
  return store;
}
