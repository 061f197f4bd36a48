import { rmSync } from 'node:fs';
import { createServer as createPlainServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificates, type TestCertificates } from '../../../endpoint/test-support/certificates.js';
import { Client, withDefaultCertificates } from './http.js';

// Two unrelated CAs: "ours", given with --ca, and "public", standing in for one Node trusts by default.
let ours: TestCertificates;
let publicCa: TestCertificates;
beforeAll(() => {
  ours = makeCertificates();
  publicCa = makeCertificates();
});
afterAll(() => {
  rmSync(ours.dir, { recursive: true, force: true });
  rmSync(publicCa.dir, { recursive: true, force: true });
});

async function serve(certs: TestCertificates): Promise<{ url: URL; server: Server }> {
  const server = createServer({ key: certs.key, cert: certs.cert }, (_req, res) => res.end('{"ok":true}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}/`), server };
}

async function ask(url: URL, ca: string): Promise<unknown> {
  const client = new Client({ url, token: null, ca, timeoutMs: 5_000, signal: new AbortController().signal, warn: () => {} });
  try {
    return await client.json('/info');
  } finally {
    await client.close();
  }
}

/** Node 23.5+: replaces the CAs Node trusts by default, for this process. */
type DefaultsWriter = (certs: string[]) => void;
const setDefaults = (tls as { setDefaultCACertificates?: DefaultsWriter }).setDefaultCACertificates;
// Node 20 cannot change its default CAs at run time; CI runs this test on Node 24.
if (typeof setDefaults !== 'function')
  console.warn(`skipping the default-CA test: tls.setDefaultCACertificates needs Node 22.19+ (this is ${process.version})`);

describe("the client's CA", () => {
  it("trusts the given CA in addition to Node's own roots", () => {
    const trusted = withDefaultCertificates(ours.ca);
    expect(trusted.at(-1)).toBe(ours.ca);
    for (const root of tls.rootCertificates) expect(trusted).toContain(root);
  });

  it('reaches an endpoint whose certificate the given CA signed', async () => {
    const { url, server } = await serve(ours);
    try {
      expect(await ask(url, ours.ca)).toEqual({ ok: true });
    } finally {
      server.close();
    }
  });

  it.runIf(typeof setDefaults === 'function')('still reaches one whose certificate a CA Node trusts by default signed', async () => {
    const previous = (tls as unknown as { getCACertificates(kind: 'default'): string[] }).getCACertificates('default');
    setDefaults?.([...previous, publicCa.ca]);
    const { url, server } = await serve(publicCa);
    try {
      expect(await ask(url, ours.ca)).toEqual({ ok: true });
    } finally {
      server.close();
      setDefaults?.(previous);
    }
  });
});

describe('a URL with the wrong scheme', () => {
  it('says an https:// URL reached a plain HTTP endpoint, not what OpenSSL made of it', async () => {
    const server = createPlainServer((_req, res) => res.end('{"ok":true}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const error = await ask(new URL(`https://${host}/`), ours.ca).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'TLS_FAILED', message: `${host} answered in plain HTTP, not HTTPS`, hint: `use http://${host} in the URL` });
    } finally {
      server.close();
    }
  });

  it('says an http:// URL reached an HTTPS endpoint, rather than that the connection was lost', async () => {
    const { url, server } = await serve(ours);
    try {
      const error = await ask(new URL(`http://${url.host}/`), ours.ca).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'TLS_FAILED',
        message: `${url.host} speaks HTTPS, and the URL says http://`,
        hint: `use https://${url.host} in the URL`,
      });
    } finally {
      server.close();
    }
  });
});

describe('a request stopped by Ctrl-C', () => {
  it("says cancelled, whatever undici rejects with (the signal's reason)", async () => {
    const server = createPlainServer((_req, res) => setTimeout(() => res.end('{}'), 5_000).unref());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const interrupt = new AbortController();
    const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const client = new Client({ url, token: null, ca: null, timeoutMs: 5_000, signal: interrupt.signal, warn: () => {} });
    try {
      setTimeout(() => interrupt.abort('SIGINT'), 100);
      await expect(client.json('/memory')).rejects.toMatchObject({ code: 'CANCELLED', message: 'cancelled' });
    } finally {
      await client.close().catch(() => {});
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('the target URL', () => {
  it('keeps every request on the target host, even when the target path starts with //', async () => {
    const paths: string[] = [];
    const server = createPlainServer((req, res) => {
      paths.push(req.url ?? '');
      res.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}//evil.example/`);
    const client = new Client({ url, token: 'secret', ca: null, timeoutMs: 5_000, signal: new AbortController().signal, warn: () => {} });
    try {
      expect(await client.json('/info', { query: { a: 'b' } })).toEqual({ ok: true });
      expect(paths).toEqual(['//evil.example/info?a=b']);
    } finally {
      await client.close();
      server.close();
    }
  });
});
