// Test certificates made with the openssl command line: a CA, a server certificate for
// 127.0.0.1/localhost signed by it, and a client certificate for mutual TLS.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  dir: string;
  ca: string;
  caFile: string;
  key: string;
  cert: string;
  /** A server certificate for the same key, signed by the CA, valid only in January 2020. */
  expiredCert: string;
  clientKey: string;
  clientCert: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-certs-'));
  const newKey = (name: string) => openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name]);
  newKey('ca.key');
  openssl(dir, ['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=opsctl test CA', '-days', '2', '-out', 'ca.pem']);
  const issue = (name: string, subject: string, extensions: string) => {
    newKey(`${name}.key`);
    openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`]);
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    ]);
  };
  issue('server', '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  issue('client', '/CN=operator', 'extendedKeyUsage=clientAuth\n');
  // `openssl ca` is the one subcommand of OpenSSL 3.0 that takes explicit validity dates.
  writeFileSync(
    join(dir, 'ca.cnf'),
    '[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial.txt\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n',
  );
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial.txt'), '1000\n');
  openssl(dir, [
    'ca',
    '-batch',
    '-config',
    'ca.cnf',
    '-startdate',
    '20200101000000Z',
    '-enddate',
    '20200102000000Z',
    '-in',
    'server.csr',
    '-keyfile',
    'ca.key',
    '-cert',
    'ca.pem',
    '-notext',
    '-extfile',
    'server.ext',
    '-out',
    'expired.pem',
  ]);
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  return {
    dir,
    ca: read('ca.pem'),
    caFile: join(dir, 'ca.pem'),
    key: read('server.key'),
    cert: read('server.pem'),
    expiredCert: read('expired.pem'),
    clientKey: read('client.key'),
    clientCert: read('client.pem'),
  };
}
