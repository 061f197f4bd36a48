// Raw clients for the adversarial suite: sockets that say what they like and then hold
// on, REPL upgrades without the CLI, and a wait for text on a socket. Everything they
// open is destroyed by closeAll(), and every wait is bounded.
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AuditEvent } from '@opsctl/endpoint';

/**
 * An open raw connection to `port` on loopback, after `bytes` were written (none: a
 * silent client). It never closes its side by itself, even when the server closes its own.
 */
export function openRaw(port: number, bytes = ''): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => {
      if (bytes !== '') socket.write(bytes);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Resolves when the server has closed the socket (or reset it), with how long it took; rejects after `timeoutMs`. */
export function closedByServer(socket: Socket, timeoutMs: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return resolve(0);
    const timer = setTimeout(() => reject(new Error(`the server kept the socket open for ${timeoutMs} ms`)), timeoutMs);
    // A client that never closes its own side: it learns of the server's close by 'end' (FIN) or an error (RST).
    const done = () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    };
    socket.once('end', done).once('close', done).once('error', done);
    socket.resume();
  });
}

/** Opens a REPL session by HTTP Upgrade at `url` (…/repl); the socket, or the refusal's status and body. */
export function upgradeRepl(url: string, headers: Record<string, string>): Promise<{ socket: Socket } | { status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/repl`, { headers: { connection: 'Upgrade', upgrade: 'opsctl-repl', 'opsctl-terminal': 'tty=0', ...headers } });
    req.on('upgrade', (_res, socket: Socket, head: Buffer) => {
      if (head.length > 0) socket.unshift(head);
      resolve({ socket });
    });
    req.on('response', (res) => {
      let text = '';
      res
        .setEncoding('utf8')
        .on('data', (c: string) => (text += c))
        .on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The audit events a child process wrote on stderr (JSON lines tagged "opsctl":"audit"). */
export function auditEvents(stderr: string): AuditEvent[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{"opsctl":"audit"'))
    .map((line) => JSON.parse(line) as AuditEvent);
}

/** GET `url` on a connection of its own (no keep-alive reuse), as a newly arriving operator; the status, or 0 when the connection failed. */
export function getFresh(url: string, headers: Record<string, string> = {}, timeoutMs = 5_000): Promise<{ status: number; ms: number; error?: string }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const req = request(url, { agent: false, headers: { connection: 'close', ...headers }, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Date.now() - started }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ status: 0, ms: Date.now() - started, error: error.code ?? error.message }));
    req.end();
  });
}
