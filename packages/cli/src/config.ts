// Contexts (named targets, kubectl-style), without secrets, in config.json under the
// config directory: OPSCTL_CONFIG_DIR, else $XDG_CONFIG_HOME/opsctl, else ~/.config/opsctl.
// A corrupt file is named in the error and never overwritten.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError } from './errors.js';
import { writeFileAtomic } from './files.js';

export type CredentialKind = 'keychain' | 'file';

export interface TargetContext {
  url: string;
  /** Path of a PEM CA bundle that signs the endpoint's certificate. */
  ca?: string;
  /** Where this context's token is kept. */
  credential: CredentialKind;
  /** Plain http to a non-loopback host was explicitly allowed at login. */
  insecure?: boolean;
}

export interface ConfigData {
  version: 1;
  current: string | null;
  contexts: Record<string, TargetContext>;
}

export function configDir(env: Record<string, string | undefined>): string {
  if (env['OPSCTL_CONFIG_DIR']) return env['OPSCTL_CONFIG_DIR'];
  const xdg = env['XDG_CONFIG_HOME'];
  return join(xdg?.startsWith('/') ? xdg : join(env['HOME'] ?? homedir(), '.config'), 'opsctl');
}

export class ConfigFile {
  readonly path: string;

  constructor(dir: string) {
    this.path = join(dir, 'config.json');
  }

  async read(): Promise<ConfigData> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, current: null, contexts: {} };
      throw new CliError('CONFIG_CORRUPT', `cannot read ${this.path}: ${(error as Error).message}`, { cause: error });
    }
    const corrupt = (why: string) =>
      new CliError('CONFIG_CORRUPT', `the config file ${this.path} is corrupt (${why})`, {
        hint: `fix or remove it by hand; opsctl will not overwrite it`,
      });
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw corrupt('not JSON');
    }
    if (!isConfigData(data)) throw corrupt('unexpected structure');
    return data;
  }

  async write(data: ConfigData): Promise<void> {
    await writeFileAtomic(this.path, `${JSON.stringify(data, null, 2)}\n`, 0o600);
  }

  /** Reads, lets `change` edit, writes back atomically. */
  async update(change: (data: ConfigData) => void): Promise<ConfigData> {
    const data = await this.read();
    change(data);
    await this.write(data);
    return data;
  }
}

function isConfigData(value: unknown): value is ConfigData {
  if (typeof value !== 'object' || value === null) return false;
  const data = value as Record<string, unknown>;
  if (data['version'] !== 1 || !(data['current'] === null || typeof data['current'] === 'string')) return false;
  const contexts = data['contexts'];
  if (typeof contexts !== 'object' || contexts === null) return false;
  return Object.values(contexts).every((c) => {
    const ctx = c as Record<string, unknown>;
    return typeof ctx === 'object' && ctx !== null && typeof ctx['url'] === 'string' && (ctx['credential'] === 'keychain' || ctx['credential'] === 'file');
  });
}
