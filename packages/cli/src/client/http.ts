// The HTTP client: one undici Agent per command, the endpoint's JSON errors turned into
// CliErrors in the CLI's words (client/refusals.ts), network failures into
// UNREACHABLE/TIMEOUT/TLS_FAILED/CONNECTION_LOST, and a warning when a different
// process answers within one command. Every string from the endpoint is made printable
// as it arrives (ui/sanitize.ts).
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { Agent, type Dispatcher, request, upgrade } from './undici.js';
import { urlUnder } from './url.js';
import { ERROR_TRAILER, ERRORS, INSTANCE_HEADER, isErrorCode, type ErrorBody } from '../endpoint/protocol.js';
import { CliError } from '../errors.js';
import { formatDurationMs } from '../ui/format.js';
import { parseEndpointJson, printable } from '../ui/sanitize.js';
import { describeRefusal } from './refusals.js';

export interface ClientOptions {
  url: URL;
  token: string | null;
  /** Where the token came from: OPSCTL_TOKEN, the context's stored one, or given to this client (opsctl login). */
  tokenSource?: TokenSource;
  /** The command as typed ("opsctl heapdump"), named when the token lacks a scope. */
  command?: string;
  /** PEM CA bundle trusted for this target, in addition to the CAs Node trusts by default (withDefaultCertificates). */
  ca: string | null;
  timeoutMs: number;
  /** Cancels every request (Ctrl-C). */
  signal: AbortSignal;
  warn(message: string): void;
}

export type TokenSource = 'environment' | 'stored' | 'given';

export interface RequestOptions {
  method?: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** Live streams and downloads: no body timeout; the server's heartbeats prove life. */
  stream?: boolean;
  /** Wait this long for the answer's head instead of --timeout, when the endpoint bounds the work itself (actions). */
  headersTimeoutMs?: number;
}

/** Whether the server at `url`'s host and port completes a TLS handshake (its certificate unchecked: nothing is sent). */
function speaksTls(url: URL, timeoutMs: number): Promise<boolean> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port: Number(url.port || 80), rejectUnauthorized: false, ...(isIP(host) ? {} : { servername: host }) });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('secureConnect', () => done(true));
  });
}

/** Node 22.15+: the CA certificates a TLS client trusts by default; @types/node 20 does not know it. */
type CertificateReader = (kind: 'default') => string[];

/**
 * `ca` together with the CAs Node trusts by default. A `ca` option alone replaces them
 * (in undici as in node:tls), and a target behind a public certificate would then fail.
 * Where Node can say (22.15+), the defaults are what it really uses, NODE_EXTRA_CA_CERTS
 * and --use-system-ca included; before that, its bundled roots.
 */
export function withDefaultCertificates(ca: string): string[] {
  const read = (tls as { getCACertificates?: CertificateReader }).getCACertificates;
  const defaults = typeof read === 'function' ? read('default') : tls.rootCertificates;
  return [...defaults, ca];
}

export class Client {
  readonly url: URL;
  readonly #agent: Agent;
  readonly #token: string | null;
  readonly #timeoutMs: number;
  readonly #signal: AbortSignal;
  readonly #warn: (message: string) => void;
  #instance: string | null = null;
  readonly #tokenSource: TokenSource;
  readonly #command: string | null;

  constructor(options: ClientOptions) {
    this.url = options.url;
    this.#token = options.token;
    this.#tokenSource = options.tokenSource ?? 'given';
    this.#command = options.command ?? null;
    this.#timeoutMs = options.timeoutMs;
    this.#signal = options.signal;
    this.#warn = options.warn;
    this.#agent = new Agent({
      connect: { timeout: options.timeoutMs, ...(options.ca ? { ca: withDefaultCertificates(options.ca) } : {}) },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  /** GETs or POSTs `path` and parses the JSON answer, its strings made printable. */
  async json<T>(path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.request(path, options);
    let text: string;
    try {
      text = await response.body.text();
    } catch (error) {
      throw this.explain(error);
    }
    try {
      return parseEndpointJson<T>(text);
    } catch (error) {
      throw new CliError('BAD_RESPONSE', `${this.url.origin} answered ${path} with something that is not JSON; is it an opsctl endpoint?`, {
        hint: 'check the URL (and any proxy in front of the endpoint)',
        cause: error,
      });
    }
  }

  /** The process that answered first in this command (the instance header), or null. */
  get instance(): string | null {
    return this.#instance;
  }

  /** A successful response whose body the caller consumes (streams, downloads). */
  async request(path: string, options: RequestOptions = {}): Promise<Dispatcher.ResponseData> {
    const target = this.resolve(path, options.query);
    let response: Dispatcher.ResponseData;
    try {
      response = await request(target, this.#agent, {
        method: (options.method ?? (options.body === undefined ? 'GET' : 'POST')) as Dispatcher.HttpMethod,
        headers: {
          ...this.authHeaders(),
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
        },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        signal: options.signal ? AbortSignal.any([options.signal, this.#signal]) : this.#signal,
        ...(options.stream ? { bodyTimeout: 0 } : {}),
        ...(options.headersTimeoutMs === undefined ? {} : { headersTimeout: options.headersTimeoutMs }),
      });
    } catch (error) {
      throw await this.#explainUnanswered(error);
    }
    this.noteInstance(response.headers[INSTANCE_HEADER]);
    if (response.statusCode >= 400) throw await this.#refusal(response);
    return response;
  }

  /**
   * Upgrades `path` to a raw byte stream. A refused upgrade reaches undici only as a
   * socket error, so callers first ask the same route with a plain GET to learn why.
   */
  async upgrade(path: string, protocol: string, headers: Record<string, string>): Promise<Duplex> {
    try {
      const { socket, headers: responseHeaders } = await upgrade(this.resolve(path), this.#agent, {
        protocol,
        headers: { ...this.authHeaders(), ...headers },
        signal: this.#signal,
      });
      this.noteInstance(responseHeaders[INSTANCE_HEADER]);
      return socket;
    } catch (error) {
      throw await this.#explainUnanswered(error);
    }
  }

  /** The Authorization header for this target (none when there is no token). */
  authHeaders(): Record<string, string> {
    return this.#token === null ? {} : { authorization: `Bearer ${this.#token}` };
  }

  resolve(path: string, query: RequestOptions['query'] = {}): URL {
    const target = urlUnder(this.url, path);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) target.searchParams.set(key, String(value));
    return target;
  }

  /** Warns once when a response comes from another process than the first one did. */
  noteInstance(header: string | string[] | undefined): void {
    const raw = Array.isArray(header) ? header[0] : header;
    if (raw === undefined) return;
    const instance = printable(raw);
    if (this.#instance === null) this.#instance = instance;
    else if (this.#instance !== instance) {
      this.#warn(`a different process answered (was ${this.#instance}, now ${instance}); a load balancer may be spreading requests`);
      this.#instance = instance;
    }
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }

  /** Turns an error response into a CliError: the endpoint's code, in the CLI's words, plus a hint. */
  /**
   * The error a streamed answer ended with, after its 200 (the endpoint's disk filling up
   * during a snapshot): the `opsctl-error` trailer, read once the body has been consumed.
   */
  trailerError(response: Dispatcher.ResponseData): CliError | null {
    const trailer = response.trailers[ERROR_TRAILER];
    if (typeof trailer !== 'string') return null;
    return this.#errorOf(trailer, response.statusCode, null);
  }

  async #refusal(response: Dispatcher.ResponseData): Promise<CliError> {
    const text = await response.body.text().catch(() => '');
    const retryAfter = Number(response.headers['retry-after']);
    return this.#errorOf(text, response.statusCode, Number.isFinite(retryAfter) ? retryAfter : null);
  }

  #errorOf(text: string, status: number, retryAfterSeconds: number | null): CliError {
    let body: ErrorBody | null = null;
    try {
      body = parseEndpointJson<ErrorBody>(text);
    } catch {
      // not JSON: not our endpoint, or a proxy in front of it
    }
    const code = body?.error?.code;
    if (!isErrorCode(code)) {
      return new CliError('BAD_RESPONSE', `${this.url.origin} answered ${status} without an opsctl error; is it an opsctl endpoint?`, {
        hint: 'check the URL (and any proxy in front of the endpoint)',
        status,
      });
    }
    const { message, hint } = describeRefusal(code, typeof body?.error.message === 'string' ? body.error.message : ERRORS[code].message, {
      url: this.url,
      tokenSource: this.#tokenSource,
      command: this.#command,
      retryAfterSeconds,
      details: body?.error.details,
    });
    const retryInMs = body?.error.details?.['retryInMs'];
    const exactRetry = typeof retryInMs === 'number' && retryInMs >= 0 && retryInMs <= 3_600_000 ? { retryInMs } : {};
    return new CliError(`ENDPOINT_${code}`, message, { ...(hint === undefined ? {} : { hint }), status, ...exactRetry });
  }

  /** A failure of this client (a request, a body read, an upgraded socket) as a CliError that says what happened. */
  explain(error: unknown): CliError {
    if (error instanceof CliError) return error;
    // Ctrl-C: undici rejects with the signal's reason itself (the signal's name, a string).
    if (this.#signal.aborted) return new CliError('CANCELLED', 'cancelled', { cause: error });
    const err = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
    const code = err.code ?? err.cause?.code ?? '';
    const where = this.url.host;
    const seconds = formatDurationMs(this.#timeoutMs);
    if (err.name === 'AbortError' || code === 'UND_ERR_ABORTED') return new CliError('CANCELLED', 'cancelled', { cause: error });
    if (code === 'UND_ERR_CONNECT_TIMEOUT')
      return new CliError('TIMEOUT', `could not connect to ${where} within ${seconds}`, { hint: 'check the host and port, or raise --timeout', cause: error });
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
      return new CliError('TIMEOUT', `${where} accepted the connection but did not answer within ${seconds}`, {
        hint: 'raise --timeout, or check that the process is not stalled',
        cause: error,
      });
    if (code === 'ECONNREFUSED')
      return new CliError('UNREACHABLE', `connection refused by ${where}`, {
        hint: 'is the application running, and is the endpoint listening on that port?',
        cause: error,
      });
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
      return new CliError('UNREACHABLE', `cannot resolve the host ${this.url.hostname}`, { hint: 'check the URL', cause: error });
    // OpenSSL's "wrong version number": what came back was not TLS, most often plain HTTP.
    if (this.url.protocol === 'https:' && (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number/.test(String(err.message ?? err.cause?.message)))) {
      return new CliError('TLS_FAILED', `${where} answered in plain HTTP, not HTTPS`, { hint: `use http://${where} in the URL`, cause: error });
    }
    if (/CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS|ERR_SSL|EPROTO/.test(code)) {
      return new CliError('TLS_FAILED', `TLS with ${where} failed: ${err.message ?? err.cause?.message}`, {
        hint: "give the CA that signed the endpoint's certificate with --ca FILE",
        cause: error,
      });
    }
    if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE' || code === 'UND_ERR_CLOSED') return this.connectionLost(error);
    return new CliError('UNREACHABLE', `cannot reach ${where}: ${err.message}`, { cause: error });
  }

  /**
   * A request that got no answer at all. An HTTPS server closes the connection on a plain
   * HTTP request without a word, which reads as a lost connection: for an http:// URL, a
   * TLS handshake with the same port tells the two apart (only on this failure).
   */
  async #explainUnanswered(error: unknown): Promise<CliError> {
    const explained = this.explain(error);
    if (explained.code !== 'CONNECTION_LOST' || this.url.protocol !== 'http:') return explained;
    if (!(await speaksTls(this.url, Math.min(this.#timeoutMs, 3_000)))) return explained;
    return new CliError('TLS_FAILED', `${this.url.host} speaks HTTPS, and the URL says http://`, {
      hint: `use https://${this.url.host} in the URL`,
      cause: error,
    });
  }

  /** The connection to the process broke off in the middle of something: how far it got (" after 3 MB"), and what became of it ("; no file was written"). */
  connectionLost(cause?: unknown, { progress = '', outcome = '' }: { progress?: string; outcome?: string } = {}): CliError {
    return new CliError('CONNECTION_LOST', `the connection to the process at ${this.url.host} was lost${progress}; it may have exited or restarted${outcome}`, {
      hint: 'see whether it answers: opsctl status',
      ...(cause === undefined ? {} : { cause }),
    });
  }
}
