// opsctl login [URL] [--name NAME]: verifies a token against the endpoint, then stores
// it (OS keychain, or a mode-0600 file with --insecure-storage) and records the context.
// Nothing is stored unless the endpoint accepted the token. URL and token default to
// OPSCTL_URL and OPSCTL_TOKEN; the context is named host:port unless named; replacing
// an existing context is asked on a terminal and needs --force elsewhere.
import { isWellFormedToken } from '../endpoint/tokens.js';
import type { InfoResponse, Scope } from '../endpoint/protocol.js';
import type { CredentialKind, TargetContext } from '../config.js';
import type { Context } from '../context.js';
import type { CredentialStore } from '../credentials/store.js';
import { CliError } from '../errors.js';
import { checkedTarget, parseUrl } from '../target.js';
import { confirm, readAllInput, readHiddenLine } from '../ui/prompt.js';

export interface LoginOptions {
  url?: string;
  name?: string;
  withToken: boolean;
  insecureStorage: boolean;
  /** Replace an existing context of that name without asking. */
  force?: boolean;
}

export interface LoginResult {
  context: string;
  url: string;
  store: CredentialKind;
  caller: { token: string; scopes: Scope[] };
  instance: InfoResponse['instance'];
}

// Letters, digits and . _ - : [ ], so that host:port and [::1]:9500 are names.
const NAME = /^[A-Za-z0-9[][A-Za-z0-9._:[\]-]{0,63}$/;
// A token is 53 characters; anything much longer is not one.
const MAX_TOKEN_INPUT_BYTES = 4096;

export async function runLogin(opts: LoginOptions, ctx: Context): Promise<LoginResult> {
  const config = await ctx.configFile.read();
  const name = opts.name ?? ctx.options.context;
  const named = name === undefined ? undefined : config.contexts[name];
  const rawUrl = opts.url ?? ctx.options.url ?? named?.url ?? (ctx.env['OPSCTL_URL'] || undefined);
  if (rawUrl === undefined) throw new CliError('USAGE', 'no URL to log in to', { hint: 'run: opsctl login https://host:port (or set OPSCTL_URL)' });
  const url = parseUrl(rawUrl);
  const contextName = name ?? url.host;
  if (!NAME.test(contextName))
    throw new CliError('USAGE', `context name "${contextName}" must be 1-64 letters, digits, ".", "_", "-", ":", "[" or "]"`, {
      hint: 'choose one with --name NAME',
    });
  const existing = config.contexts[contextName];
  // --context NAME logs in to that context again: no question to ask.
  if (existing !== undefined && ctx.options.context !== contextName) await confirmReplace(contextName, existing, opts, ctx);
  const stored: TargetContext = {
    url: url.href.replace(/\/$/, ''),
    credential: opts.insecureStorage ? 'file' : 'keychain',
    ...((ctx.options.ca ?? existing?.ca) ? { ca: ctx.options.ca ?? existing?.ca } : {}),
    ...(ctx.options.insecure ? { insecure: true } : {}),
  };
  const target = checkedTarget({ context: contextName, url, ca: stored.ca ?? null, insecure: stored.insecure === true, credential: stored.credential });

  // Find the store first: no point asking for a token that cannot be kept.
  const store = await openStore(stored.credential, ctx);
  if (store.kind === 'file') await noteKeychainProblem(ctx);
  const token = await readToken(opts, ctx, url);
  const client = await ctx.client(target, token);
  const spinner = await ctx.out.spinner(`verifying the token with ${url.host}`);
  let info: InfoResponse;
  try {
    info = await client.json<InfoResponse>('/info');
  } catch (error) {
    spinner.fail(`${url.host} refused; nothing was stored`);
    throw error;
  }
  spinner.stop();
  await store.set(contextName, token);
  // A context that moves to another store must not leave its old secret behind.
  if (existing !== undefined && existing.credential !== stored.credential) {
    await (await ctx.credentials(existing.credential)).delete(contextName).catch(() => false);
  }
  await ctx.configFile.update((data) => {
    data.contexts[contextName] = stored;
    data.current = contextName;
  });

  const result: LoginResult = { context: contextName, url: stored.url, store: stored.credential, caller: info.caller, instance: info.instance };
  ctx.out.result(result, (r, c) =>
    [
      `${c.green('✔')} Logged in to ${c.bold(r.url)} as ${c.bold(r.caller.token)} (scopes: ${r.caller.scopes.join(', ')})`,
      `  ${r.instance.app.name} on ${r.instance.host}, pid ${r.instance.pid}, Node ${r.instance.node}`,
      `  context "${r.context}" is now current; token kept in ${store.description}`,
    ].join('\n'),
  );
  return result;
}

async function openStore(kind: CredentialKind, ctx: Context): Promise<CredentialStore> {
  if (kind === 'file') return ctx.credentials('file');
  const { probeKeychain } = await import('../credentials/keychain.js');
  return probeKeychain();
}

/** Asks before a login overwrites a context (another target, or another token for it). */
async function confirmReplace(name: string, existing: TargetContext, opts: LoginOptions, ctx: Context): Promise<void> {
  if (opts.force) return;
  const what = `a context named "${name}" exists (${existing.url})`;
  if (!ctx.stdin.isTTY || opts.withToken) {
    throw new CliError('USAGE', `${what}; nothing was changed`, { hint: 'pass --force to replace it, or choose another name with --name NAME' });
  }
  if (!(await confirm(ctx.stdin, { write: (s: string) => ctx.out.raw(s) }, `${what}. Replace it?`))) {
    throw new CliError('DECLINED', `kept the context "${name}"; nothing was changed`, { hint: 'choose another name with --name NAME' });
  }
}

/** With --insecure-storage, say why the keychain was not an option, if it was not. */
async function noteKeychainProblem(ctx: Context): Promise<void> {
  const { keychainProblem } = await import('../credentials/keychain.js');
  const problem = await keychainProblem();
  if (problem !== null) ctx.out.warn(`the OS keychain is unavailable: ${problem}`);
}

async function readToken(opts: LoginOptions, ctx: Context, url: URL): Promise<string> {
  let token: string;
  const fromEnvironment = ctx.env['OPSCTL_TOKEN'];
  if (!opts.withToken && fromEnvironment) {
    token = fromEnvironment.trim();
    if (!ctx.out.json) ctx.out.info(ctx.out.ce.dim('using the token in OPSCTL_TOKEN'));
  } else if (opts.withToken) {
    token = await readAllInput(ctx.stdin, MAX_TOKEN_INPUT_BYTES);
    if (token === '') throw new CliError('NO_TOKEN', 'no token on stdin', { hint: 'pipe it in: opsctl login URL --name NAME --with-token < token.txt' });
  } else if (ctx.stdin.isTTY) {
    token = await readHiddenLine(ctx.stdin, { write: (s: string) => ctx.out.raw(s) }, `Paste the token for ${url.host}: `);
    if (token === '') throw new CliError('NO_TOKEN', 'no token was entered; nothing was stored');
  } else {
    throw new CliError('NO_TOKEN', 'no token: stdin is not a terminal', { hint: 'pipe the token with --with-token, or set OPSCTL_TOKEN for one-off use' });
  }
  if (!isWellFormedToken(token)) {
    throw new CliError(
      'BAD_TOKEN',
      `${fromEnvironment && !opts.withToken ? 'OPSCTL_TOKEN is' : 'that is'} not an opsctl token (it should start with "opsctl_" and its checksum must match); nothing was sent`,
      { hint: 'copy the whole token printed by opsctl token new' },
    );
  }
  return token;
}
