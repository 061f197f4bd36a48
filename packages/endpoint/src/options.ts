// resolveOptions(): checks the application's options once, reports every problem at
// once with the fix, fills defaults from the named constants below, and freezes.
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import type { ServerOptions as TlsServerOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { basename } from 'node:path';
import { resolveActions, type ActionDefinition, type ResolvedAction } from './actions/definitions.js';
import { guardedSink, stderrAuditSink, type AuditSink } from './audit.js';
import { resolveCapture, type CaptureOptions, type ResolvedCapture } from './diagnostics/capture.js';
import { SMALL_OBJECT_MEMORY_FACTOR } from './diagnostics/heap-snapshot.js';
import { MAX_FORCED_PAUSE_MS } from './diagnostics/forced-gc.js';
import { SAMPLE_CAPACITY } from './diagnostics/gc-sampler.js';
import { leakSettingsProblems } from './diagnostics/leak-verdict.js';
import { EndpointConfigError } from './errors.js';
import { isLoopback, isScope, SCOPE_LIST, type LeakSettings, type Scope } from './protocol/index.js';
import { containsToken, isTokenHash, isWellFormedToken, maskTokens } from './tokens.js';

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 9500;
const HEADERS_TIMEOUT_MS = 10_000; // slowloris: the whole header block must arrive within this
const REQUEST_TIMEOUT_MS = 30_000; // a request body must arrive within this; long answers stream past it
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
const SEND_STALL_MS = 60_000; // an answer its client takes nothing of for this long is cut off (server/send-stall.ts)
const MAX_HEADER_BYTES = 8 * 1024; // a bearer token and a few headers; node's default is 16 KiB
const MAX_BODY_BYTES = 64 * 1024; // JSON parameters only; nothing large is ever uploaded
const MAX_CONNECTIONS = 64; // connections whose requests carried a valid token
const MAX_CONNECTIONS_PER_TOKEN = 16; // …of which one token holds at most this many
const MAX_UNAUTHENTICATED_CONNECTIONS = 128; // connections yet to authenticate, from anyone (server/admission.ts)
const MAX_UNAUTHENTICATED_PER_ADDRESS = 32; // …and from one address
const AUTH_FAILURES_ALLOWED = 10; // per address per window before it is throttled
const AUTH_FAILURE_WINDOW_MS = 60_000;
const AUTH_BLOCK_MS = 60_000; // doubles on each repeat block, up to AUTH_BLOCK_MAX_MS
export const AUTH_BLOCK_MAX_MS = 15 * 60_000;
export const THROTTLE_TRACKED_ADDRESSES = 10_000; // bounds the throttle's memory under a spoofed-address flood

/** Routes an application may open to anonymous callers. */
const PUBLIC_ROUTE_NAMES = ['health'] as const;
export type PublicRouteName = (typeof PUBLIC_ROUTE_NAMES)[number];

export interface TokenConfig {
  /** Who holds the token: appears in audit events and in `opsctl status`. */
  name: string;
  /** SHA-256 of the token, 64 hex characters, as printed by `opsctl token new`. */
  sha256: string;
  scopes: Scope[];
}

export interface LimitOptions {
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  /** An answer whose client takes none of it for this long is cut off, freeing what it held (default 60 000). */
  sendStallMs?: number;
  maxHeaderBytes?: number;
  maxBodyBytes?: number;
  /** Connections that have authenticated, at most (default 64). */
  maxConnections?: number;
  /** Authenticated connections of one token, at most (default 16, or maxConnections if smaller): one leaked or looping client cannot take them all. */
  maxConnectionsPerToken?: number;
  /** Connections that have not authenticated yet, at most; past it the oldest is dropped (default 128). */
  maxUnauthenticatedConnections?: number;
  /** The same, from one client address (default 32). */
  maxUnauthenticatedPerAddress?: number;
  authFailuresAllowed?: number;
  authFailureWindowMs?: number;
  authBlockMs?: number;
}

interface HeapSnapshotOptions {
  /** Where snapshots are written before they are streamed (and removed). Default: the OS temp dir. */
  dir?: string;
  /**
   * Extra peak memory per byte of small-object heap (heap used outside the large-object
   * spaces, not heapUsed) that the preflight assumes (default 24; measured 13-20 for
   * objects, 55-60 for heaps of short strings, which is 39-45x their heapUsed).
   * Lower it only with measurements of your own heap.
   */
  memoryFactor?: number;
}

const REPL_MAX_SESSIONS = 2;
const REPL_IDLE_TIMEOUT_MS = 15 * 60_000; // a forgotten session should not hold code execution open
const EVAL_TIMEOUT_MS = 5_000; // bounds synchronous code: `while (true) {}` is stopped, the app goes on
const EVAL_TIMEOUT_MAX_MS = 60_000;

interface ReplOptions {
  /** The objects the REPL exposes by name (e.g. { db, cache, config }). */
  context?: Record<string, unknown>;
  maxSessions?: number;
  idleTimeoutMs?: number;
  /** Time limit for the synchronous part of each evaluation. */
  evalTimeoutMs?: number;
}

export const BLOCKED_THRESHOLD_MS = 1_000;

interface WatchdogOptions {
  /** A main-thread event loop blocked this long is recorded as a block, with its stack (default 1000). */
  blockedThresholdMs?: number;
}

interface LeakOptions {
  /** Thresholds of the verdict (docs/leak-detection.md gives each default and why). */
  settings?: Partial<LeakSettings>;
  /** Post-GC samples kept: one per major GC, at least one per 10 s. Default 720 (an hour at 5 s). */
  samples?: number;
  /**
   * Longest pause, in ms, of a GC forced to take a sample when V8 runs none (gap-filling, or
   * `gc=true`); forced GCs also keep to 0.5% of wall time. 0 never forces one. Default 500.
   */
  maxForcedPauseMs?: number;
}

export interface EndpointOptions {
  /** Who may call: an array, or one string `name:sha256:scope,scope` entries separated by `;` or whitespace (e.g. OPSCTL_TOKENS). */
  tokens: TokenConfig[] | string | undefined;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** node:https server options (key, cert, ca, requestCert…); without them the endpoint serves plain http. */
  tls?: TlsServerOptions;
  /** Serve plain http on a non-loopback address. Anyone on the path can read tokens and heap snapshots. */
  allowInsecureBind?: boolean;
  /** Routes anonymous callers may reach. Only `health` may be public. */
  public?: PublicRouteName[];
  /** Shown in `info` and used to name snapshot files. Defaults from npm_package_name / the main script. */
  app?: { name?: string; version?: string };
  /** Where audit events go; default JSON lines on stderr. `false` turns auditing off. */
  audit?: AuditSink | false;
  /** When mounting the handler under a path in a plain node:http server, that path (e.g. "/ops"). */
  basePath?: string;
  limits?: LimitOptions;
  heapSnapshot?: HeapSnapshotOptions;
  /**
   * A memory limit in bytes for this process that the platform does not show (a
   * supervisor's restart threshold, a VM quota). Counted against RSS; used when tighter
   * than the cgroup's or the machine's. Memory preflights respect it.
   */
  memoryLimitBytes?: number;
  /** Enables the remote REPL (scope `repl`): off unless given. */
  repl?: ReplOptions;
  /** The endpoint's own server does not keep the process alive (as for the preload). */
  unref?: boolean;
  /** Leak detection: on by default (a sample per major GC); `false` turns it off. */
  leaks?: LeakOptions | false;
  /** Named maintenance commands operators run with `opsctl run NAME key=value` (scope `actions`). */
  actions?: Record<string, ActionDefinition>;
  /** Heap snapshots taken automatically when memory goes wrong, kept for `opsctl snapshots` (needs leak detection). */
  capture?: CaptureOptions;
  /**
   * The blocked-loop watchdog (own port only: it runs on the endpoint's thread): on by
   * default; `false` turns it off.
   */
  watchdog?: WatchdogOptions | false;
}

export interface ResolvedToken {
  name: string;
  hash: Buffer;
  scopes: readonly Scope[];
}

export interface ResolvedOptions {
  tokens: readonly ResolvedToken[];
  host: string;
  port: number;
  tls: TlsServerOptions | null;
  publicRoutes: ReadonlySet<string>;
  app: { name: string; version: string | null };
  audit: AuditSink | null;
  /** True when `audit` is the default sink (JSON lines on stderr), which the endpoint's own thread can write itself. */
  auditToStderr: boolean;
  basePath: string;
  limits: Readonly<Required<LimitOptions>>;
  heapSnapshot: Readonly<Required<HeapSnapshotOptions>>;
  memoryLimitBytes: number | null;
  /** null when the application did not enable the REPL. */
  repl: Readonly<Required<ReplOptions>> | null;
  unref: boolean;
  /** null when leak detection is off. */
  leaks: Readonly<{ settings: Partial<LeakSettings>; samples: number; maxForcedPauseMs: number }> | null;
  /** null when the application defined no actions. */
  actions: ReadonlyMap<string, ResolvedAction> | null;
  /** null when automatic capture is not configured. */
  capture: Readonly<ResolvedCapture> | null;
  /** null when the watchdog is off. */
  watchdog: Readonly<Required<WatchdogOptions>> | null;
}

export function resolveOptions(input: EndpointOptions): ResolvedOptions {
  const problems: string[] = [];
  if (input === null || typeof input !== 'object') {
    throw new EndpointConfigError(['options must be an object with at least `tokens`']);
  }
  const tokens = resolveTokens(input.tokens, problems);
  const host = input.host ?? DEFAULT_HOST;
  const port = input.port ?? DEFAULT_PORT;
  if (typeof host !== 'string' || host === '') problems.push('`host` must be a non-empty string such as "127.0.0.1"');
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`\`port\` must be an integer from 0 to 65535, not ${String(port)}`);
  const tls = input.tls ?? null;
  if (tls !== null && (typeof tls !== 'object' || !(tls.cert || tls.pfx))) {
    problems.push('`tls` must be node:https server options with at least `key` and `cert` (or `pfx`)');
  } else if (tls !== null && tls.pfx === undefined && isEmptyPem(tls.key)) {
    problems.push('`tls.key` is empty: give the PEM private key that goes with `tls.cert`');
  }
  if (tls !== null && typeof tls === 'object' && tls.ca !== undefined && isEmptyPem(tls.ca)) {
    problems.push(
      '`tls.ca` is given but empty: client certificates would be checked against nothing the operator chose; give the PEM of the CA, or leave `ca` out',
    );
  }
  if (tls === null && typeof host === 'string' && !isLoopback(host) && input.allowInsecureBind !== true) {
    problems.push(
      `refusing to serve plain http on non-loopback host "${host}": tokens and heap snapshots would cross the network unencrypted; give \`tls\` options, or bind \`host: "127.0.0.1"\`, or set \`allowInsecureBind: true\` if a TLS proxy on this machine fronts it`,
    );
  }
  const publicRoutes = new Set<string>();
  for (const name of input.public ?? []) {
    if ((PUBLIC_ROUTE_NAMES as readonly string[]).includes(name)) publicRoutes.add(name);
    else
      problems.push(`\`public\` may only list ${PUBLIC_ROUTE_NAMES.map((n) => `"${n}"`).join(', ')}; "${String(name)}" cannot be opened to anonymous callers`);
  }
  const sink = input.audit === false ? null : (input.audit ?? stderrAuditSink);
  if (sink !== null && typeof sink !== 'function') problems.push('`audit` must be a function receiving each audit event, or false');
  const audit = sink === null || typeof sink !== 'function' ? null : guardedSink(sink);
  const basePath = normaliseBasePath(input.basePath, problems);
  const limits = resolveLimits(input.limits ?? {}, problems);
  const heapSnapshot = resolveHeapSnapshot(input.heapSnapshot ?? {}, problems);
  const memoryLimitBytes = input.memoryLimitBytes ?? null;
  if (memoryLimitBytes !== null && !(Number.isInteger(memoryLimitBytes) && memoryLimitBytes > 0)) {
    problems.push('`memoryLimitBytes` must be a positive integer number of bytes');
  }
  const repl = input.repl === undefined ? null : resolveRepl(input.repl, problems);
  const leaks = input.leaks === false ? null : resolveLeaks(input.leaks ?? {}, problems);
  const actions = input.actions === undefined ? null : resolveActions(input.actions, problems);
  const capture = input.capture === undefined ? null : resolveCapture(input.capture, problems);
  if (capture !== null && leaks === null) problems.push("`capture` judges its rules on leak detection's GC samples: remove `leaks: false`, or drop `capture`");
  const watchdog = input.watchdog === false ? null : resolveWatchdog(input.watchdog ?? {}, problems);
  if (problems.length > 0) throw new EndpointConfigError(problems);
  return Object.freeze({
    tokens,
    host,
    port,
    tls,
    publicRoutes,
    app: resolveApp(input.app),
    audit,
    auditToStderr: audit !== null && input.audit === undefined,
    basePath,
    limits,
    heapSnapshot,
    memoryLimitBytes,
    repl,
    unref: input.unref === true,
    leaks,
    actions,
    capture,
    watchdog,
  });
}

function resolveWatchdog(input: WatchdogOptions, problems: string[]): Readonly<Required<WatchdogOptions>> {
  const blockedThresholdMs = input.blockedThresholdMs ?? BLOCKED_THRESHOLD_MS;
  if (!Number.isInteger(blockedThresholdMs) || blockedThresholdMs < 200) {
    problems.push('`watchdog.blockedThresholdMs` must be a whole number of milliseconds, 200 or more (the main thread stamps its heartbeat every 100 ms)');
  }
  return Object.freeze({ blockedThresholdMs });
}

function resolveLeaks(input: LeakOptions, problems: string[]): Readonly<{ settings: Partial<LeakSettings>; samples: number; maxForcedPauseMs: number }> {
  const settings = input.settings ?? {};
  for (const problem of leakSettingsProblems(settings)) problems.push(`\`leaks.settings\`: ${problem}`);
  const samples = input.samples ?? SAMPLE_CAPACITY;
  if (!Number.isInteger(samples) || samples < 12) problems.push('`leaks.samples` must be an integer of at least 12');
  const maxForcedPauseMs = input.maxForcedPauseMs ?? MAX_FORCED_PAUSE_MS;
  if (typeof maxForcedPauseMs !== 'number' || !(maxForcedPauseMs >= 0 && maxForcedPauseMs <= 60_000))
    problems.push('`leaks.maxForcedPauseMs` must be a number of ms from 0 (never force a GC) to 60000');
  return Object.freeze({ settings: Object.freeze({ ...settings }), samples, maxForcedPauseMs });
}

function resolveRepl(input: ReplOptions, problems: string[]): Readonly<Required<ReplOptions>> {
  if (input === null || typeof input !== 'object') {
    problems.push('`repl` must be an object such as { context: { db } }');
    return Object.freeze({ context: {}, maxSessions: 0, idleTimeoutMs: 0, evalTimeoutMs: 0 });
  }
  const context = input.context ?? {};
  if (typeof context !== 'object' || context === null) problems.push('`repl.context` must be an object of the values to expose');
  const positive = (name: keyof ReplOptions, value: number | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER) => {
    const n = value ?? fallback;
    if (!Number.isInteger(n) || n <= 0 || n > max)
      problems.push(`\`repl.${name}\` must be a positive integer${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ''}`);
    return n;
  };
  return Object.freeze({
    context,
    maxSessions: positive('maxSessions', input.maxSessions, REPL_MAX_SESSIONS),
    idleTimeoutMs: positive('idleTimeoutMs', input.idleTimeoutMs, REPL_IDLE_TIMEOUT_MS),
    evalTimeoutMs: positive('evalTimeoutMs', input.evalTimeoutMs, EVAL_TIMEOUT_MS, EVAL_TIMEOUT_MAX_MS),
  });
}

function resolveHeapSnapshot(input: HeapSnapshotOptions, problems: string[]): Readonly<Required<HeapSnapshotOptions>> {
  const dir = input.dir ?? tmpdir();
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    accessSync(dir, fsConstants.W_OK);
  } catch {
    problems.push(`\`heapSnapshot.dir\` "${dir}" must be an existing directory this process can write`);
  }
  const memoryFactor = input.memoryFactor ?? SMALL_OBJECT_MEMORY_FACTOR;
  if (typeof memoryFactor !== 'number' || !(memoryFactor > 0)) problems.push('`heapSnapshot.memoryFactor` must be a number greater than 0');
  return Object.freeze({ dir, memoryFactor });
}

/** Parses `name:sha256:scope,scope` entries separated by `;` or whitespace. */
export function parseTokenList(text: string): TokenConfig[] {
  return text
    .split(/[;\s]+/)
    .filter((entry) => entry !== '')
    .map((entry) => {
      const [name = '', sha256 = '', scopes = '', ...rest] = entry.split(':');
      if (rest.length > 0) return { name, sha256: `${sha256}:${scopes}:${rest.join(':')}`, scopes: [] };
      return { name, sha256, scopes: scopes.split(',').filter((s) => s !== '') as Scope[] };
    });
}

function resolveTokens(input: EndpointOptions['tokens'], problems: string[]): ResolvedToken[] {
  const hint = 'create one with `opsctl token new --name NAME --scopes read` and add the line it prints';
  if (input === undefined || input === null || (typeof input === 'string' && input.trim() === '')) {
    problems.push(`no tokens configured: the endpoint refuses to start without \`tokens\` (or OPSCTL_TOKENS); ${hint}`);
    return [];
  }
  const list = typeof input === 'string' ? parseTokenList(input) : input;
  if (!Array.isArray(list)) {
    problems.push('`tokens` must be an array of { name, sha256, scopes } or a string of `name:sha256:scopes` entries');
    return [];
  }
  if (list.length === 0) problems.push(`\`tokens\` is empty: the endpoint refuses to start without a token; ${hint}`);
  const seen = new Set<string>();
  const resolved: ResolvedToken[] = [];
  list.forEach((token, i) => {
    const where = `tokens[${i}]`;
    if (token === null || typeof token !== 'object') {
      problems.push(`${where} must be an object { name, sha256, scopes }`);
      return;
    }
    const { name, sha256, scopes } = token;
    if (typeof name === 'string' && containsToken(name)) {
      problems.push(
        `${where} holds a token (${maskTokens(name.slice(0, 80))}): the configuration takes only its sha256; treat that token as leaked (it may be in logs now), revoke it and mint another with \`opsctl token new\``,
      );
    } else if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(name)) {
      problems.push(`${where}.name must be 1-64 letters, digits, ".", "_", "@" or "-", not ${maskTokens(JSON.stringify(name)).slice(0, 80)}`);
    } else if (seen.has(name)) {
      problems.push(`${where}.name "${name}" is used by two tokens; audit events could not tell them apart`);
    } else seen.add(name);
    if (typeof sha256 === 'string' && isWellFormedToken(sha256)) {
      problems.push(
        `${where}.sha256 is a token, not its hash: never put the token itself in the configuration; treat it as leaked (it may be in logs now), revoke it, and use the sha256 printed by \`opsctl token new\``,
      );
    } else if (typeof sha256 !== 'string' || !isTokenHash(sha256)) {
      problems.push(`${where}.sha256 must be 64 lowercase hex characters (the SHA-256 printed by \`opsctl token new\`)`);
    }
    if (!Array.isArray(scopes) || scopes.length === 0) {
      problems.push(`${where}.scopes must list at least one of ${SCOPE_LIST}`);
    } else {
      for (const scope of scopes) {
        if (!isScope(String(scope))) problems.push(`${where}.scopes has unknown scope "${String(scope)}"; known: ${SCOPE_LIST}`);
      }
    }
    if (typeof sha256 === 'string' && isTokenHash(sha256)) {
      resolved.push(Object.freeze({ name: String(name), hash: Buffer.from(sha256, 'hex'), scopes: Object.freeze([...new Set(scopes)]) }));
    }
  });
  return resolved;
}

function resolveLimits(input: LimitOptions, problems: string[]): Readonly<Required<LimitOptions>> {
  const defaults: Required<LimitOptions> = {
    headersTimeoutMs: HEADERS_TIMEOUT_MS,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
    sendStallMs: SEND_STALL_MS,
    maxHeaderBytes: MAX_HEADER_BYTES,
    maxBodyBytes: MAX_BODY_BYTES,
    maxConnections: MAX_CONNECTIONS,
    maxConnectionsPerToken: MAX_CONNECTIONS_PER_TOKEN,
    maxUnauthenticatedConnections: MAX_UNAUTHENTICATED_CONNECTIONS,
    maxUnauthenticatedPerAddress: MAX_UNAUTHENTICATED_PER_ADDRESS,
    authFailuresAllowed: AUTH_FAILURES_ALLOWED,
    authFailureWindowMs: AUTH_FAILURE_WINDOW_MS,
    authBlockMs: AUTH_BLOCK_MS,
  };
  const limits = { ...defaults };
  for (const [key, value] of Object.entries(input) as [keyof LimitOptions, unknown][]) {
    if (!(key in defaults)) {
      problems.push(`\`limits.${key}\` is not a known limit; known: ${Object.keys(defaults).join(', ')}`);
    } else if (value !== undefined) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
        problems.push(`\`limits.${key}\` must be a positive integer, not ${JSON.stringify(value)}`);
      } else limits[key] = value;
    }
  }
  if (limits.maxUnauthenticatedPerAddress > limits.maxUnauthenticatedConnections) {
    problems.push('`limits.maxUnauthenticatedPerAddress` must not exceed `limits.maxUnauthenticatedConnections`');
  }
  // The default share follows a smaller maxConnections; a share set by hand must fit in it.
  if (input.maxConnectionsPerToken === undefined) limits.maxConnectionsPerToken = Math.min(limits.maxConnectionsPerToken, limits.maxConnections);
  if (limits.maxConnectionsPerToken > limits.maxConnections) {
    problems.push('`limits.maxConnectionsPerToken` must not exceed `limits.maxConnections`');
  }
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    problems.push('`limits.headersTimeoutMs` must not exceed `limits.requestTimeoutMs`');
  }
  return Object.freeze(limits);
}

function normaliseBasePath(input: string | undefined, problems: string[]): string {
  if (input === undefined || input === '' || input === '/') return '';
  if (typeof input !== 'string' || !/^\/[A-Za-z0-9._~/-]*$/.test(input)) {
    problems.push('`basePath` must be a path starting with "/", such as "/ops"');
    return '';
  }
  return input.replace(/\/+$/, '');
}

function resolveApp(input: EndpointOptions['app']): ResolvedOptions['app'] {
  const main = process.argv[1] ? basename(process.argv[1]).replace(/\.[cm]?[jt]s$/, '') : 'node';
  return Object.freeze({
    name: input?.name ?? process.env['npm_package_name'] ?? main,
    version: input?.version ?? process.env['npm_package_version'] ?? null,
  });
}

/** True for a PEM option that is present but holds nothing (an empty file read into it). */
function isEmptyPem(value: unknown): boolean {
  if (Array.isArray(value)) return value.length === 0 || value.every(isEmptyPem);
  if (typeof value === 'string') return value.trim() === '';
  if (Buffer.isBuffer(value)) return value.toString('utf8').trim() === '';
  return value === undefined || value === null;
}
