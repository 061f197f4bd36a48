import { describe, expect, it } from 'vitest';
import { EndpointConfigError } from './errors.js';
import { parseTokenList, resolveOptions, type EndpointOptions } from './options.js';
import { isLoopback } from './protocol/index.js';
import { generateToken, hashToken } from './tokens.js';

const hash = hashToken(generateToken());
const valid: EndpointOptions = { tokens: [{ name: 'ci', sha256: hash, scopes: ['read'] }] };

function problemsOf(options: EndpointOptions): string[] {
  try {
    resolveOptions(options);
  } catch (error) {
    expect(error).toBeInstanceOf(EndpointConfigError);
    expect((error as EndpointConfigError).code).toBe('OPSCTL_INVALID_OPTIONS');
    return [...(error as EndpointConfigError).problems];
  }
  return [];
}

describe('resolveOptions', () => {
  it('fills loopback defaults and freezes the result', () => {
    const options = resolveOptions(valid);
    expect(options.host).toBe('127.0.0.1');
    expect(options.port).toBe(9500);
    expect(options.limits.maxBodyBytes).toBe(64 * 1024);
    expect(Object.isFrozen(options)).toBe(true);
    expect(options.tokens[0]?.scopes).toEqual(['read']);
  });

  it('refuses to start without tokens, naming the option and how to make one', () => {
    for (const tokens of [undefined, [], '', '   ']) {
      const problems = problemsOf({ tokens });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/tokens/);
      expect(problems[0]).toMatch(/opsctl token new/);
    }
  });

  it('refuses plain http on a non-loopback host unless allowInsecureBind is set', () => {
    expect(problemsOf({ ...valid, host: '0.0.0.0' })[0]).toMatch(/tls.*allowInsecureBind/);
    expect(problemsOf({ ...valid, host: '10.1.2.3' })[0]).toMatch(/allowInsecureBind/);
    expect(problemsOf({ ...valid, host: '0.0.0.0', allowInsecureBind: true })).toEqual([]);
    expect(problemsOf({ ...valid, host: '::1' })).toEqual([]);
  });

  it('takes the longest forced-GC pause for leak detection, 0 meaning never force one', () => {
    expect(resolveOptions(valid).leaks?.maxForcedPauseMs).toBe(500);
    expect(resolveOptions({ ...valid, leaks: { maxForcedPauseMs: 0 } }).leaks?.maxForcedPauseMs).toBe(0);
    expect(problemsOf({ ...valid, leaks: { maxForcedPauseMs: -1 } })[0]).toMatch(/leaks\.maxForcedPauseMs/);
    expect(problemsOf({ ...valid, leaks: { maxForcedPauseMs: '100' as never } })[0]).toMatch(/leaks\.maxForcedPauseMs/);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({
      tokens: [
        { name: 'a', sha256: hash, scopes: ['read', 'root' as never] },
        { name: 'a', sha256: 'abc', scopes: [] },
      ],
      port: 70000,
      limits: { maxBodyBytes: -1, nonsense: 1 } as never,
    });
    expect(problems.join('\n')).toMatch(/unknown scope "root"/);
    expect(problems.join('\n')).toMatch(/"a" is used by two tokens/);
    expect(problems.join('\n')).toMatch(/sha256 must be 64/);
    expect(problems.join('\n')).toMatch(/at least one/);
    expect(problems.join('\n')).toMatch(/port/);
    expect(problems.join('\n')).toMatch(/maxBodyBytes/);
    expect(problems.join('\n')).toMatch(/nonsense/);
    expect(problems.length).toBeGreaterThanOrEqual(7);
  });

  it('notices a raw token pasted where its hash belongs', () => {
    expect(problemsOf({ tokens: [{ name: 'ci', sha256: generateToken(), scopes: ['read'] }] })[0]).toMatch(/is a token, not its hash/);
  });

  it('opens only health to anonymous callers', () => {
    expect(resolveOptions({ ...valid, public: ['health'] }).publicRoutes.has('health')).toBe(true);
    expect(problemsOf({ ...valid, public: ['info' as never] })[0]).toMatch(/"info" cannot be opened/);
  });
});

describe('parseTokenList', () => {
  it('reads name:sha256:scopes entries separated by ; or whitespace', () => {
    const other = hashToken(generateToken());
    expect(parseTokenList(`ci:${hash}:read,heap; alice:${other}:admin\nbob:${other}:repl`)).toEqual([
      { name: 'ci', sha256: hash, scopes: ['read', 'heap'] },
      { name: 'alice', sha256: other, scopes: ['admin'] },
      { name: 'bob', sha256: other, scopes: ['repl'] },
    ]);
  });

  it('feeds resolveOptions, which rejects broken entries', () => {
    expect(resolveOptions({ tokens: `ci:${hash}:read` }).tokens).toHaveLength(1);
    expect(problemsOf({ tokens: `ci:${hash}` })[0]).toMatch(/scopes/);
    expect(problemsOf({ tokens: `ci:${hash}:read:extra` }).join()).toMatch(/sha256/);
  });
});

describe('isLoopback', () => {
  it('knows the loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.3.2.1', '::1', '[::1]', 'localhost']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1']) expect(isLoopback(host), host).toBe(false);
  });
});
