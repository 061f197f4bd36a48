import { describe, expect, it } from 'vitest';
import type { ConfigData } from './config.js';
import { resolveTarget, type TargetInputs } from './target.js';

const config: ConfigData = {
  version: 1,
  current: 'prod',
  contexts: {
    prod: { url: 'https://prod.internal:9500', credential: 'keychain', ca: '/etc/ca.pem' },
    dev: { url: 'http://127.0.0.1:9500', credential: 'file' },
  },
};
const base: TargetInputs = { urlFlag: undefined, contextFlag: undefined, caFlag: undefined, insecureFlag: false, env: {}, config };

describe('resolveTarget', () => {
  it('uses the current context by default', () => {
    expect(resolveTarget(base)).toMatchObject({ context: 'prod', credential: 'keychain', ca: '/etc/ca.pem' });
  });

  it('lets flags beat the environment, and the environment beat the config', () => {
    expect(resolveTarget({ ...base, env: { OPSCTL_URL: 'http://127.0.0.1:1' } }).url.port).toBe('1');
    expect(resolveTarget({ ...base, env: { OPSCTL_CONTEXT: 'dev' } }).context).toBe('dev');
    expect(resolveTarget({ ...base, contextFlag: 'dev', env: { OPSCTL_URL: 'http://127.0.0.1:1' } }).context).toBe('dev');
    expect(resolveTarget({ ...base, urlFlag: 'http://localhost:2', contextFlag: 'dev' }).url.port).toBe('2');
  });

  it('names the known contexts when asked for an unknown one', () => {
    expect(() => resolveTarget({ ...base, contextFlag: 'staging' })).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_CONTEXT', hint: expect.stringContaining('prod, dev') }),
    );
  });

  it('says how to start when nothing is configured', () => {
    expect(() => resolveTarget({ ...base, config: { version: 1, current: null, contexts: {} } })).toThrow(expect.objectContaining({ code: 'NO_TARGET' }));
  });

  it('refuses malformed and non-http URLs as usage errors', () => {
    for (const url of ['not a url', 'ftp://host', 'https://user:pw@host:1']) {
      expect(() => resolveTarget({ ...base, urlFlag: url }), url).toThrow(expect.objectContaining({ code: 'USAGE' }));
    }
  });

  it('refuses plain http to another machine unless --insecure', () => {
    expect(() => resolveTarget({ ...base, urlFlag: 'http://10.1.2.3:9500' })).toThrow(expect.objectContaining({ code: 'INSECURE_URL' }));
    expect(resolveTarget({ ...base, urlFlag: 'http://10.1.2.3:9500', insecureFlag: true }).url.host).toBe('10.1.2.3:9500');
    expect(resolveTarget({ ...base, urlFlag: 'http://[::1]:9500' }).url.hostname).toBe('[::1]');
  });
});
