import { generateToken } from '@opsctl/endpoint/tokens';
import { TOKEN_PREFIX } from '@opsctl/endpoint/protocol';
import { describe, expect, it } from 'vitest';
import { argumentsHoldToken, maskTokens } from './mask.js';

describe('maskTokens', () => {
  it('hides tokens, whole or cut short, and keeps the rest of the sentence', () => {
    const token = generateToken();
    expect(token.startsWith(TOKEN_PREFIX)).toBe(true);
    expect(maskTokens(`"${token}" is not a URL`)).toBe(`"${TOKEN_PREFIX}…(token hidden)" is not a URL`);
    expect(maskTokens(`unknown command '${token.slice(0, 30)}'`)).not.toContain(token.slice(7, 30));
    expect(maskTokens('opsctl_help is fine')).toBe('opsctl_help is fine');
  });

  it('finds a token among the arguments', () => {
    expect(argumentsHoldToken(['login', generateToken()])).toBe(true);
    expect(argumentsHoldToken(['--url', `http://x/?t=${generateToken()}`])).toBe(true);
    expect(argumentsHoldToken(['login', 'https://app:9500'])).toBe(false);
  });
});
