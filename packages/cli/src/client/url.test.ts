import { describe, expect, it } from 'vitest';
import { urlUnder } from './url.js';

describe('urlUnder', () => {
  it('puts the route under the target path, on the target host', () => {
    expect(urlUnder(new URL('http://127.0.0.1:9'), '/info').href).toBe('http://127.0.0.1:9/info');
    expect(urlUnder(new URL('https://ops.example/prefix/'), '/heapdump').href).toBe('https://ops.example/prefix/heapdump');
    expect(urlUnder(new URL('http://[::1]:9/a?b=1#c'), '/info').href).toBe('http://[::1]:9/a/info');
  });

  it('never leaves the target host, whatever its path holds (a path starting with // is not another host)', () => {
    for (const base of ['http://127.0.0.1:9//evil.example/', 'http://127.0.0.1:9//evil.example', 'http://127.0.0.1:9/\\\\evil.example/']) {
      const url = urlUnder(new URL(base), '/info');
      expect(url.host).toBe('127.0.0.1:9');
      expect(url.protocol).toBe('http:');
    }
  });

  it('keeps a query or fragment inside the route escaped as path', () => {
    const url = urlUnder(new URL('http://127.0.0.1:9'), '/snapshots/a?b#c');
    expect(url.pathname).toBe('/snapshots/a%3Fb%23c');
    expect(url.search).toBe('');
  });
});
