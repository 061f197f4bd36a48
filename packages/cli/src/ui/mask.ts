// A token typed where something else belongs (`opsctl login <TOKEN>`, `--url <TOKEN>`)
// comes back in the error about it: on the screen, in CI logs, in a terminal's
// scrollback. Every error line masks token-shaped text (the prefix, then enough
// characters to be a token), and the command says to revoke a token seen in its
// arguments: it is in the shell's history by now.

// TOKEN_PREFIX of @opsctl/endpoint/protocol (mask.test.ts checks): not imported, because
// main.ts masks commander's own errors and `opsctl --help` loads nothing but commander.
const TOKEN_PREFIX = 'opsctl_';

// Shorter runs than a whole token (53 characters) too: a token cut off or mistyped is still secret.
const TOKEN_SHAPED = new RegExp(`${TOKEN_PREFIX}[0-9A-Za-z]{12,}`, 'g');

export function maskTokens(text: string): string {
  return text.replace(TOKEN_SHAPED, `${TOKEN_PREFIX}…(token hidden)`);
}

/** True when some argument holds a token-shaped value. */
export function argumentsHoldToken(argv: readonly string[]): boolean {
  return argv.some((arg) => new RegExp(TOKEN_SHAPED.source).test(arg));
}

export const REVOKE_HINT =
  "a token was given on the command line, so it is in your shell history: revoke it (remove its entry from the application's OPSCTL_TOKENS and mint another with opsctl token new); pass tokens with --with-token on stdin or OPSCTL_TOKEN";
