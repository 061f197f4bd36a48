// Reads the endpoint's TLS certificate directly (undici does not expose it): whether it
// verifies against the trusted CAs, and until when it is valid.
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { connect } from 'node:tls';
import { CliError } from '../errors.js';
import { withDefaultCertificates } from './http.js';

export interface CertificateFacts {
  authorized: boolean;
  /** Why it does not verify (e.g. CERT_HAS_EXPIRED), when it does not. */
  error: string | null;
  validTo: Date;
  subject: string;
}

export async function inspectCertificate(url: URL, caFile: string | null, timeoutMs: number): Promise<CertificateFacts> {
  // The same trust as the HTTP client's, so this check and real requests agree.
  const ca = caFile === null ? undefined : withDefaultCertificates(await readFile(caFile, 'utf8'));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const socket = connect({
      host,
      port: Number(url.port || 443),
      ...(isIP(host) ? {} : { servername: host }),
      ...(ca ? { ca } : {}),
      // Verify by hand below, so an invalid certificate is described instead of refused.
      rejectUnauthorized: false,
    });
    socket.setTimeout(timeoutMs, () => socket.destroy(new CliError('TIMEOUT', `no TLS handshake with ${url.host} within ${timeoutMs / 1000} s`)));
    socket.once('error', (error) => {
      if (error instanceof CliError) return reject(error);
      // OpenSSL's "wrong version number": what came back was not TLS, most often plain HTTP.
      if (/wrong version number/.test(error.message))
        return reject(new CliError('TLS_FAILED', `${url.host} answered in plain HTTP, not HTTPS`, { hint: `use http://${url.host} in the URL`, cause: error }));
      reject(new CliError('TLS_FAILED', `TLS with ${url.host} failed: ${error.message}`, { cause: error }));
    });
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      const authorizationError = socket.authorizationError ? String(socket.authorizationError) : null;
      socket.end();
      resolve({ authorized: socket.authorized, error: authorizationError, validTo: new Date(cert.valid_to), subject: String(cert.subject?.CN ?? '') });
    });
  });
}
