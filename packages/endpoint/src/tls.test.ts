import { rmSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startEndpoint } from '../test-support/index.js';
import { makeCertificates, type TestCertificates } from '../test-support/certificates.js';

let certs: TestCertificates;
beforeAll(() => {
  certs = makeCertificates();
});
afterAll(() => rmSync(certs.dir, { recursive: true, force: true }));

function get(url: string, options: RequestOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('TLS', () => {
  it('serves https with the given certificate and the same auth rules', async () => {
    const ep = await startEndpoint({ tls: { key: certs.key, cert: certs.cert } });
    try {
      expect(ep.url).toMatch(/^https:/);
      expect((await get(`${ep.url}/info`, { ca: certs.ca })).status).toBe(401);
      const ok = await get(`${ep.url}/info`, { ca: certs.ca, headers: bearer(ep.tokens['reader']) });
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body).caller.token).toBe('reader');
      await expect(get(`${ep.url}/info`, {})).rejects.toThrow(/self.signed|unable to verify|certificate/i);
    } finally {
      await ep.close();
    }
  });

  it('may serve TLS on a non-loopback address without allowInsecureBind', async () => {
    const ep = await startEndpoint({ host: '0.0.0.0', tls: { key: certs.key, cert: certs.cert } });
    await ep.close();
  });

  it('requires a client certificate from the CA when the application asks for mutual TLS', async () => {
    const ep = await startEndpoint({ tls: { key: certs.key, cert: certs.cert, ca: certs.ca, requestCert: true, rejectUnauthorized: true } });
    try {
      await expect(get(`${ep.url}/info`, { ca: certs.ca, headers: bearer(ep.tokens['reader']) })).rejects.toThrow();
      const ok = await get(`${ep.url}/info`, { ca: certs.ca, key: certs.clientKey, cert: certs.clientCert, headers: bearer(ep.tokens['reader']) });
      expect(ok.status).toBe(200);
    } finally {
      await ep.close();
    }
  });
});
