// Which endpoint a command talks to, and with which token. Flags beat the
// environment, the environment beats the config file:
//   URL:   --url > --context > OPSCTL_URL > OPSCTL_CONTEXT > the current context
//   token: OPSCTL_TOKEN > the token stored for the context (keychain or file)
import { isLoopback } from './endpoint/protocol.js';
import { CliError } from './errors.js';
import type { ConfigData, CredentialKind, TargetContext } from './config.js';

export interface Target {
  /** The context's name, or null for a bare URL (flag or OPSCTL_URL). */
  context: string | null;
  url: URL;
  ca: string | null;
  insecure: boolean;
  credential: CredentialKind | null;
}

export interface TargetInputs {
  urlFlag: string | undefined;
  contextFlag: string | undefined;
  caFlag: string | undefined;
  insecureFlag: boolean;
  env: Record<string, string | undefined>;
  config: ConfigData;
}

export function resolveTarget(inputs: TargetInputs): Target {
  const { env, config } = inputs;
  const byUrl = (raw: string, context: string | null, stored?: TargetContext): Target =>
    checkedTarget({
      context,
      url: parseUrl(raw),
      ca: inputs.caFlag ?? stored?.ca ?? null,
      insecure: inputs.insecureFlag || stored?.insecure === true,
      credential: stored?.credential ?? null,
    });
  if (inputs.urlFlag !== undefined) return byUrl(inputs.urlFlag, null);
  if (inputs.contextFlag !== undefined) return fromContext(inputs.contextFlag, config, byUrl);
  if (env['OPSCTL_URL']) return byUrl(env['OPSCTL_URL'], null);
  const name = env['OPSCTL_CONTEXT'] || config.current;
  if (!name) {
    throw new CliError('NO_TARGET', 'no target: no context is selected and OPSCTL_URL is not set', {
      hint: 'run: opsctl login URL --name NAME (or set OPSCTL_URL and OPSCTL_TOKEN)',
    });
  }
  return fromContext(name, config, byUrl);
}

function fromContext(name: string, config: ConfigData, byUrl: (raw: string, context: string, stored: TargetContext) => Target): Target {
  const stored = config.contexts[name];
  if (stored === undefined) {
    const known = Object.keys(config.contexts);
    throw new CliError('UNKNOWN_CONTEXT', `no context named "${name}"`, {
      hint: known.length > 0 ? `known contexts: ${known.join(', ')}` : 'run: opsctl login URL --name NAME',
    });
  }
  return byUrl(stored.url, name, stored);
}

export function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError('USAGE', `"${raw}" is not a URL`, { hint: 'give it as https://host:port (or http://127.0.0.1:port on this machine)' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError('USAGE', `"${raw}" is not an http or https URL`, { hint: 'give it as https://host:port' });
  }
  if (url.username || url.password) throw new CliError('USAGE', 'put the token in the keychain or OPSCTL_TOKEN, not in the URL');
  url.search = '';
  url.hash = '';
  return url;
}

/** Refuses to send a token over plain http to another machine unless told to. */
export function checkedTarget(target: Target): Target {
  if (target.url.protocol === 'http:' && !isLoopback(target.url.hostname) && !target.insecure) {
    throw new CliError('INSECURE_URL', `refusing to send a token over plain http to ${target.url.host}: anyone on the path could read it`, {
      hint: 'use https (with --ca FILE for a private CA), or pass --insecure if a trusted tunnel carries the traffic',
    });
  }
  return target;
}
