// opsctl token new: mints a token offline, prints it once, and the exact line the
// application's configuration needs. Only the hash ever goes into configuration.
import { generateToken, hashToken } from '../endpoint/tokens.js';
import { isScope, SCOPES, type Scope } from '../endpoint/protocol.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';

export interface TokenNewOptions {
  name: string;
  scopes: string;
}

export interface TokenNewResult {
  name: string;
  scopes: Scope[];
  token: string;
  sha256: string;
  /** The entry for OPSCTL_TOKENS (or the `tokens` option as a string). */
  line: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export async function runTokenNew(opts: TokenNewOptions, ctx: Context): Promise<TokenNewResult> {
  if (!NAME.test(opts.name)) {
    throw new CliError('USAGE', `token name "${opts.name}" must be 1-64 letters, digits, ".", "_", "@" or "-"`, {
      hint: 'name it after who holds it, e.g. --name alice or --name ci-deploy',
    });
  }
  const scopes = [
    ...new Set(
      opts.scopes
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  ];
  const unknown = scopes.filter((s) => !isScope(s));
  if (scopes.length === 0 || unknown.length > 0) {
    throw new CliError(
      'USAGE',
      unknown.length > 0 ? `unknown scope${unknown.length > 1 ? 's' : ''} ${unknown.map((s) => `"${s}"`).join(', ')}` : 'no scopes given',
      {
        hint: `choose from ${SCOPES.join(', ')}, comma-separated`,
      },
    );
  }
  const token = generateToken();
  const sha256 = hashToken(token);
  const result: TokenNewResult = { name: opts.name, scopes: scopes as Scope[], token, sha256, line: `${opts.name}:${sha256}:${scopes.join(',')}` };
  ctx.out.result(result, (r, c) =>
    [
      `${c.bold('Token')} for "${r.name}" (${r.scopes.join(', ')}), shown once; give it to its holder:`,
      '',
      `  ${c.green(r.token)}`,
      '',
      `${c.bold('Application configuration')}: add this entry to OPSCTL_TOKENS (entries separated by ";"):`,
      '',
      `  ${r.line}`,
      '',
      `or in code: { name: '${r.name}', sha256: '${r.sha256}', scopes: [${r.scopes.map((s) => `'${s}'`).join(', ')}] }`,
      '',
      `The holder then runs: opsctl login URL --name NAME`,
    ].join('\n'),
  );
  return result;
}
