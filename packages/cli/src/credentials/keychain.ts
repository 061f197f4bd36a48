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
    throw new CliError('KEYCHAIN_UNAVAILABLE', 'no OS keychain: keytar is not installed (it needs libsecret to build)', { hint: FIX_HINT, cause: error });
  }
}

function withTimeout<T>(operation: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new CliError('KEYCHAIN_UNAVAILABLE', `no OS keychain: the Secret Service did not answer ${what} within ${KEYCHAIN_TIMEOUT_MS / 1000} s`, { hint: FIX_HINT })),
      KEYCHAIN_TIMEOUT_MS,
    );
    timer.unref();
  });
  return Promise.race([operation, timeout]).finally(() => clearTimeout(timer));
}

function unavailable(error: unknown): CliError {
  if (error instanceof CliError) return error;
  const reason = (error as Error).message?.split('\n')[0] ?? String(error);
  return new CliError('KEYCHAIN_UNAVAILABLE', `no OS keychain: ${reason}`, { hint: FIX_HINT, cause: error });
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
