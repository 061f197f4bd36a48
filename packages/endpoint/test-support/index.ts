// Helpers for the endpoint's tests: a real endpoint on an ephemeral loopback port with
// freshly minted tokens, and a raw-socket client for requests fetch() refuses to send.
import { connect, type Socket } from 'node:net';
import { createMaintenanceEndpoint, type EndpointOptions, type MaintenanceEndpoint } from '../src/index.js';
import type { AuditEvent } from '../src/audit.js';
import type { Scope } from '../src/protocol/index.js';
import { generateToken, hashToken } from '../src/tokens.js';

export interface TestEndpoint {
  endpoint: MaintenanceEndpoint;
  url: string;
  port: number;
  /** token by name: reader (read), heap (heap), admin (admin) unless given otherwise */
  tokens: Record<string, string>;
  events: AuditEvent[];
  close(): Promise<void>;
}

export const DEFAULT_TEST_TOKENS: Record<string, Scope[]> = { reader: ['read'], heap: ['heap'], admin: ['admin'] };

export async function startEndpoint(
  options: Partial<EndpointOptions> = {},
  scopesByName: Record<string, Scope[]> = DEFAULT_TEST_TOKENS,
): Promise<TestEndpoint> {
  const tokens: Record<string, string> = {};
  const configs = Object.entries(scopesByName).map(([name, scopes]) => {
    const token = generateToken();
    tokens[name] = token;
    return { name, sha256: hashToken(token), scopes };
  });
  const events: AuditEvent[] = [];
  const endpoint = createMaintenanceEndpoint({ tokens: configs, port: 0, audit: (event) => events.push(event), ...options });
  const address = await endpoint.listen();
  return { endpoint, url: address.url, port: address.port, tokens, events, close: () => endpoint.close() };
}

export function bearer(token: string | undefined): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Writes `chunks` to a fresh connection (pausing `gapMs` between them) and reads the answer until the server closes. */
export function rawHttp(port: number, chunks: string[], gapMs = 0): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (data) => (received += data));
    socket.on('error', reject);
    socket.on('close', () => resolve(parseResponse(received)));
    void (async () => {
      for (const chunk of chunks) {
        if (socket.destroyed) return;
        socket.write(chunk);
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
      }
    })();
  });
}

function parseResponse(text: string): RawResponse {
  const split = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = text.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1] ?? 0), headers, body: text.slice(split + 4) };
}

/** The parsed JSON body of a fetch response, loosely typed for assertions. */
// biome-ignore lint/suspicious/noExplicitAny: the tests read answers of every shape and let the assertions check them.
export async function jsonOf(res: Response): Promise<any> {
  return res.json();
}

/** Resolves once `condition` holds, polling every 20 ms; throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Reads from `socket` until the text received matches `pattern`; returns all of it. */
export function readUntil(socket: Socket, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      socket.off('data', onData);
      reject(new Error(`no ${pattern} within ${timeoutMs} ms in ${JSON.stringify(text)}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (pattern.test(text)) {
        clearTimeout(timer);
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
  });
}

/**
 * The last audit event matching `match`, once there is one: on its own port the endpoint
 * writes from its own thread, and its events reach a test's sink a moment after the answer.
 */
export async function audited(ep: TestEndpoint, match: (event: AuditEvent) => boolean, timeoutMs = 5_000): Promise<AuditEvent> {
  await waitFor(() => ep.events.some(match), timeoutMs);
  return ep.events.findLast(match) as AuditEvent;
}

/** Resolves once no audit event has arrived for `quietMs`: those of earlier requests are all in. */
export async function auditSettled(ep: TestEndpoint, quietMs = 150): Promise<void> {
  for (let count = -1; count !== ep.events.length; ) {
    count = ep.events.length;
    await new Promise((resolve) => setTimeout(resolve, quietMs));
  }
}
