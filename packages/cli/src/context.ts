// What a command receives: output, environment, input, clock, and lazy access to the
// config, credentials and HTTP client, so `opsctl --version` loads neither undici nor
// keytar, and tests drive commands without a terminal.
import { readFile } from 'node:fs/promises';
import { ConfigFile, configDir, type CredentialKind } from './config.js';
import type { Client } from './client/http.js';
import type { CredentialStore } from './credentials/store.js';
import { CliError } from './errors.js';
import { resolveTarget, type Target } from './target.js';
import type { OutStream } from './ui/out-stream.js';
import { Output } from './ui/output.js';

export type Env = Record<string, string | undefined>;

export interface Input extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

export interface Streams {
  stdin: Input;
  stdout: OutStream;
  stderr: OutStream;
}

export interface GlobalOptions {
  context?: string;
  url?: string;
  json: boolean;
  /** false with --no-color */
  color: boolean;
  ca?: string;
  insecure: boolean;
  /** milliseconds */
  timeout: number;
  verbose: boolean;
}

export interface Context {
  readonly options: GlobalOptions;
  readonly out: Output;
  readonly env: Env;
  readonly stdin: Input;
  readonly configFile: ConfigFile;
  readonly configDir: string;
  /** The working directory: where downloads go without --out, and what relative paths start from. */
  readonly cwd: string;
  /** Aborted on Ctrl-C or SIGTERM (its reason names which): commands stop, requests are cancelled, terminals are restored. */
  readonly signal: AbortSignal;
  /** The command as typed, without its arguments ("opsctl profile cpu"): what refusals name. */
  readonly command: string;
  now(): number;
  /** The endpoint this command talks to. */
  target(): Promise<Target>;
  /** The token for a target: OPSCTL_TOKEN, else the one stored for its context. */
  token(target: Target): Promise<string>;
  /** A client for the target, with its token; closed when the command ends. */
  client(target?: Target, token?: string | null): Promise<Client>;
  credentials(kind: CredentialKind): Promise<CredentialStore>;
  /** Closes what the command opened (HTTP agents). */
  dispose(): Promise<void>;
}

export function createContext(
  streams: Streams,
  env: Env,
  cwd: string,
  options: GlobalOptions,
  signal: AbortSignal,
  now: () => number = Date.now,
  command = 'opsctl',
): Context {
  const out = new Output({ stdout: streams.stdout, stderr: streams.stderr, env, json: options.json, noColor: !options.color, verbose: options.verbose });
  const dir = configDir(env);
  const configFile = new ConfigFile(dir);
  const clients: Client[] = [];

  const context: Context = {
    options,
    out,
    env,
    stdin: streams.stdin,
    configFile,
    configDir: dir,
    cwd,
    signal,
    command,
    now,

    async target() {
      return resolveTarget({
        urlFlag: options.url,
        contextFlag: options.context,
        caFlag: options.ca,
        insecureFlag: options.insecure,
        env,
        config: await configFile.read(),
      });
    },

    async token(target) {
      if (env['OPSCTL_TOKEN']) return env['OPSCTL_TOKEN'];
      if (target.context === null || target.credential === null) {
        throw new CliError('NO_TOKEN', `no token for ${target.url.origin}`, { hint: 'set OPSCTL_TOKEN, or run: opsctl login URL --name NAME' });
      }
      const store = await context.credentials(target.credential);
      const token = await store.get(target.context);
      if (token === null) {
        throw new CliError(
          'NO_TOKEN',
          `no token for "${target.context}" in ${store.description}${store.kind === 'keychain' ? ' (or the keyring is locked)' : ''}`,
          {
            hint: `run: opsctl login --context ${target.context}`,
          },
        );
      }
      return token;
    },

    async client(given, token) {
      const target = given ?? (await context.target());
      const secret = token === undefined ? await context.token(target) : token;
      const { Client } = await import('./client/http.js');
      const client = new Client({
        url: target.url,
        token: secret,
        // OPSCTL_TOKEN wins over a stored token: a refusal of it says so, since logging in again changes nothing.
        tokenSource: token !== undefined ? 'given' : env['OPSCTL_TOKEN'] ? 'environment' : 'stored',
        command,
        ca: target.ca === null ? null : await readCa(target.ca),
        timeoutMs: options.timeout,
        signal,
        warn: (message) => out.warn(message),
      });
      clients.push(client);
      return client;
    },

    async credentials(kind) {
      if (kind === 'file') {
        const { FileStore } = await import('./credentials/file-store.js');
        return new FileStore(dir);
      }
      const { openKeychain } = await import('./credentials/keychain.js');
      return openKeychain();
    },

    async dispose() {
      await Promise.allSettled(clients.splice(0).map((client) => client.close()));
    },
  };
  return context;
}

async function readCa(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError('USAGE', `cannot read the CA file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      hint: 'give a PEM file with --ca FILE',
    });
  }
}
