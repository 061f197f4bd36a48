import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeCertificates, type TestCertificates } from '../test-support/certificates.js';

// The preload starts an endpoint from process.env when imported; here it finds no
// tokens and says so on stderr, which the test keeps quiet.
let optionsFromEnv: typeof import('./register.js').optionsFromEnv;
let certs: TestCertificates;
beforeAll(async () => {
  const quiet = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    ({ optionsFromEnv } = await import('./register.js'));
  } finally {
    quiet.mockRestore();
  }
  certs = makeCertificates();
});
afterAll(() => rmSync(certs.dir, { recursive: true, force: true }));

describe("the preload's environment", () => {
  it('reports a client CA given without a server certificate and key', () => {
    const problems: string[] = [];
    const options = optionsFromEnv({ OPSCTL_TOKENS: 'x', OPSCTL_TLS_CLIENT_CA: certs.caFile }, problems);
    expect(problems).toEqual([expect.stringMatching(/^OPSCTL_TLS_CLIENT_CA needs OPSCTL_TLS_CERT and OPSCTL_TLS_KEY/)]);
    expect(options.tls).toBeUndefined();
  });

  it('requires client certificates from the CA when all three are given', () => {
    const problems: string[] = [];
    const dir = certs.dir;
    const options = optionsFromEnv(
      { OPSCTL_TOKENS: 'x', OPSCTL_TLS_CERT: `${dir}/server.pem`, OPSCTL_TLS_KEY: `${dir}/server.key`, OPSCTL_TLS_CLIENT_CA: certs.caFile },
      problems,
    );
    expect(problems).toEqual([]);
    expect(options.tls).toMatchObject({ ca: certs.ca, requestCert: true, rejectUnauthorized: true });
  });
});
