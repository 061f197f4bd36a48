// Prometheus' HTTP API as opsctl fleet asks it: instant queries (GET /api/v1/query),
// with a bearer token when Prometheus sits behind a proxy that wants one. Its answers
// are untrusted input: read up to a cap, their shape checked before use, and every
// label made one printable line (ui/sanitize.ts) before it can reach a terminal.
import { Agent, type Dispatcher, request } from './undici.js';
import { urlUnder } from './url.js';
import { CliError } from '../errors.js';
import { formatDurationMs } from '../ui/format.js';
import { printable } from '../ui/sanitize.js';

export interface PrometheusOptions {
  url: URL;
  token: string | null;
  timeoutMs: number;
  /** Cancels every query (Ctrl-C). */
  signal: AbortSignal;
}

/** One series of an instant vector: its labels and its value now. */
export interface PrometheusSample {
  labels: Readonly<Record<string, string>>;
  value: number;
}

// A fleet of thousands of instances answers a query in a few MB; more is not Prometheus.
const MAX_ANSWER_BYTES = 32 * 1024 * 1024;
const CHECK_URL_HINT = 'give --prometheus the address of Prometheus itself, as its web UI has it (e.g. http://prometheus:9090)';

export class PrometheusApi {
  readonly url: URL;
  readonly #agent: Agent;
  readonly #token: string | null;
  readonly #timeoutMs: number;
  readonly #signal: AbortSignal;

  constructor(options: PrometheusOptions) {
    this.url = options.url;
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs;
    this.#signal = options.signal;
    this.#agent = new Agent({ connect: { timeout: options.timeoutMs }, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
  }

  /** The instant vector `promql` evaluates to now. */
  async query(promql: string): Promise<PrometheusSample[]> {
    const target = urlUnder(this.url, '/api/v1/query');
    target.searchParams.set('query', promql);
    let status: number;
    let text: string;
    try {
      // bodyTimeout bounds the gaps between chunks, not the whole: one byte every second
      // would hold a query for ever. The whole answer within the timeout.
      const deadline = AbortSignal.timeout(this.#timeoutMs);
      const response = await request(target, this.#agent, {
        method: 'GET',
        headers: { accept: 'application/json', ...(this.#token === null ? {} : { authorization: `Bearer ${this.#token}` }) },
        signal: AbortSignal.any([this.#signal, deadline]),
      });
      status = response.statusCode;
      text = await readCapped(response.body).catch((error: unknown) => {
        throw deadline.aborted ? deadline.reason : error;
      });
    } catch (error) {
      throw this.#explain(error);
    }
    if (status === 401 || status === 403) {
      throw new CliError('BAD_TOKEN', `Prometheus at ${this.url.host} refused the query with ${status}`, {
        hint: 'give the token it wants in OPSCTL_PROMETHEUS_TOKEN or --prometheus-token-file FILE',
        status,
      });
    }
    return this.#vectorOf(parseAnswer(text), status, promql);
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }

  #vectorOf(answer: unknown, status: number, promql: string): PrometheusSample[] {
    if (!isRecord(answer) || (answer['status'] !== 'success' && answer['status'] !== 'error')) {
      throw new CliError('BAD_RESPONSE', `${this.url.host} answered ${status} with something that is not Prometheus' query API`, {
        hint: CHECK_URL_HINT,
        status,
      });
    }
    if (answer['status'] === 'error') {
      const reason = oneLine(String(answer['error'] ?? 'no reason given'));
      // Prometheus says bad_data (400) for a query it cannot parse: here, the selector.
      if (answer['errorType'] === 'bad_data') {
        const why = reason.replace(/^invalid parameter "query": /, '');
        throw new CliError('USAGE', `Prometheus cannot parse the query ${oneLine(promql)}: ${why}`, {
          hint: 'give --selector as a PromQL label selector, e.g. \'{app="shop"}\'',
          status,
        });
      }
      throw new CliError('PROMETHEUS_FAILED', `Prometheus at ${this.url.host} failed the query (${oneLine(String(answer['errorType']))}): ${reason}`, {
        hint: "run the command again; if it keeps failing, see Prometheus' own log",
        status,
      });
    }
    const data = answer['data'];
    if (!isRecord(data) || data['resultType'] !== 'vector' || !Array.isArray(data['result'])) {
      throw new CliError('BAD_RESPONSE', `${this.url.host} answered a query without an instant vector; is it Prometheus?`, { hint: CHECK_URL_HINT, status });
    }
    return data['result'].map((series: unknown) => {
      const sample = sampleOf(series);
      if (sample === null)
        throw new CliError('BAD_RESPONSE', `${this.url.host} answered a query with a malformed series; is it Prometheus?`, { hint: CHECK_URL_HINT, status });
      return sample;
    });
  }

  #explain(error: unknown): CliError {
    if (error instanceof CliError) return error;
    const err = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
    // A DOMException (the deadline's TimeoutError) has a numeric code.
    const raw: unknown = err.code ?? err.cause?.code;
    const code = typeof raw === 'string' ? raw : '';
    const where = `Prometheus at ${this.url.host}`;
    if (this.#signal.aborted) return new CliError('CANCELLED', 'cancelled', { cause: error });
    if ((code.startsWith('UND_ERR_') && code.endsWith('TIMEOUT')) || err.name === 'TimeoutError') {
      return new CliError('TIMEOUT', `${where} did not answer within ${formatDurationMs(this.#timeoutMs)}`, {
        hint: 'raise --timeout, or check that Prometheus is up',
        cause: error,
      });
    }
    if (/CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS|ERR_SSL|EPROTO/.test(code)) {
      return new CliError('TLS_FAILED', `TLS with ${where} failed: ${err.message}`, { hint: 'trust its CA with NODE_EXTRA_CA_CERTS=ca.pem', cause: error });
    }
    const reason =
      code === 'ECONNREFUSED'
        ? 'the connection was refused'
        : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? `cannot resolve ${this.url.hostname}`
          : err.message;
    return new CliError('UNREACHABLE', `cannot reach ${where}: ${reason}`, { hint: CHECK_URL_HINT, cause: error });
  }
}

async function readCapped(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of body) {
    bytes += (chunk as Buffer).length;
    if (bytes > MAX_ANSWER_BYTES) {
      body.destroy();
      throw new CliError('BAD_RESPONSE', `Prometheus' answer is larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB; is it Prometheus?`, {
        hint: CHECK_URL_HINT,
      });
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseAnswer(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function sampleOf(series: unknown): PrometheusSample | null {
  if (!isRecord(series) || !isRecord(series['metric']) || !Array.isArray(series['value']) || typeof series['value'][1] !== 'string') return null;
  const labels: Record<string, string> = {};
  for (const [name, value] of Object.entries(series['metric'])) {
    if (typeof value !== 'string') return null;
    labels[oneLine(name)] = oneLine(value);
  }
  return { labels, value: sampleValue(series['value'][1]) };
}

/** Prometheus writes values as strings: "1.5", "NaN", "+Inf", "-Inf". */
function sampleValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

/** A string from Prometheus as one printable line: no escape sequences, no line breaks. */
function oneLine(text: string): string {
  return printable(text).replace(/[\n\t]/g, ' ');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
