// Tokens in a file, for machines without a keychain, only when asked for with
// --insecure-storage. Kept at mode 0600 and refused when anyone else may read it.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError } from '../errors.js';
import { writeFileAtomic } from '../files.js';
import type { CredentialStore } from './store.js';

interface CredentialsData {
  version: 1;
  tokens: Record<string, string>;
}

export class FileStore implements CredentialStore {
  readonly kind = 'file' as const;
  readonly path: string;

  constructor(dir: string) {
    this.path = join(dir, 'credentials.json');
  }

  get description(): string {
    return `the file ${this.path}`;
  }

  async get(context: string): Promise<string | null> {
    return (await this.#read()).tokens[context] ?? null;
  }

  async set(context: string, token: string): Promise<void> {
    const data = await this.#read();
    data.tokens[context] = token;
    await writeFileAtomic(this.path, `${JSON.stringify(data, null, 2)}\n`, 0o600);
  }

  async delete(context: string): Promise<boolean> {
    const data = await this.#read();
    if (!(context in data.tokens)) return false;
    delete data.tokens[context];
    await writeFileAtomic(this.path, `${JSON.stringify(data, null, 2)}\n`, 0o600);
    return true;
  }

  async #read(): Promise<CredentialsData> {
    let mode: number;
    try {
      mode = (await stat(this.path)).mode & 0o777;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, tokens: {} };
      throw error;
    }
    if ((mode & 0o077) !== 0) {
      throw new CliError('CREDENTIALS_FILE_UNSAFE', `the credentials file ${this.path} may be read by other users (mode ${mode.toString(8)})`, {
        hint: `run: chmod 600 ${this.path}`,
      });
    }
    let data: unknown;
    try {
      data = JSON.parse(await readFile(this.path, 'utf8'));
    } catch {
      throw new CliError('CONFIG_CORRUPT', `the credentials file ${this.path} is corrupt (not JSON)`, {
        hint: 'fix or remove it by hand; opsctl will not overwrite it',
      });
    }
    const tokens = (data as CredentialsData | null)?.tokens;
    if (typeof tokens !== 'object' || tokens === null) {
      throw new CliError('CONFIG_CORRUPT', `the credentials file ${this.path} is corrupt (unexpected structure)`, {
        hint: 'fix or remove it by hand; opsctl will not overwrite it',
      });
    }
    return { version: 1, tokens: { ...tokens } };
  }
}
