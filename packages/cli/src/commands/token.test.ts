import { SCOPE_LIST } from '@opsctl/endpoint/protocol';
import { hashToken, isWellFormedToken } from '@opsctl/endpoint/tokens';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../test-support/index.js';

describe('opsctl token new', () => {
  it('prints a token once, and the configuration line with its hash, never the token in it', async () => {
    const { code, stdout } = await runCli(['token', 'new', '--name', 'ci', '--scopes', 'read,heap']);
    expect(code).toBe(0);
    const token = /opsctl_[0-9A-Za-z]+/.exec(stdout)?.[0] ?? '';
    expect(isWellFormedToken(token)).toBe(true);
    expect(stdout).toContain(`ci:${hashToken(token)}:read,heap`);
    expect(stdout.split(token).length - 1).toBe(1);
  });

  it('prints one JSON document with --json', async () => {
    const { code, stdout, stderr } = await runCli(['token', 'new', '--name', 'ci', '--scopes', 'heap,read,heap', '--json']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const result = JSON.parse(stdout);
    expect(result.scopes).toEqual(['heap', 'read']);
    expect(result.sha256).toBe(hashToken(result.token));
    expect(result.line).toBe(`ci:${result.sha256}:heap,read`);
  });

  it('lists every scope in its help, as the protocol has them', async () => {
    const { stdout } = await runCli(['token', 'new', '--help']);
    expect(stdout.replace(/\s+/g, ' ')).toContain(`comma-separated: ${SCOPE_LIST}`);
  });

  it('refuses unknown scopes with exit 2 and the list of known ones', async () => {
    const { code, stdout, stderr } = await runCli(['token', 'new', '--name', 'ci', '--scopes', 'read,root']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/unknown scope "root"/);
    expect(stderr).toMatch(/metrics, read, heap, profile, actions, repl, admin/);
  });

  it('refuses a name that audit logs could not show plainly', async () => {
    expect((await runCli(['token', 'new', '--name', 'a b', '--scopes', 'read'])).code).toBe(2);
    expect((await runCli(['token', 'new', '--scopes', 'read'])).code).toBe(2);
  });
});
