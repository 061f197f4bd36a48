// What the HTTP side of the endpoint (server, pipeline, routes) needs of the resolved
// options: plain data only, so that it crosses to the endpoint's own thread as it is.
// The application's objects (REPL context, actions, audit function) stay on the main
// thread, behind the Host.
import type { ResolvedOptions } from '../options.js';

export type ServerConfig = Pick<ResolvedOptions, 'tokens' | 'host' | 'port' | 'tls' | 'publicRoutes' | 'app' | 'basePath' | 'limits'> & {
  heapSnapshotDir: string;
  repl: { maxSessions: number; idleTimeoutMs: number; evalTimeoutMs: number } | null;
  features: { leaks: boolean; actions: boolean; capture: boolean };
  /** The watchdog's threshold; null when it is off. */
  blockedThresholdMs: number | null;
};

export function serverConfig(options: ResolvedOptions): ServerConfig {
  return {
    tokens: options.tokens,
    host: options.host,
    port: options.port,
    tls: options.tls,
    publicRoutes: options.publicRoutes,
    app: options.app,
    basePath: options.basePath,
    limits: options.limits,
    heapSnapshotDir: options.heapSnapshot.dir,
    repl:
      options.repl === null
        ? null
        : { maxSessions: options.repl.maxSessions, idleTimeoutMs: options.repl.idleTimeoutMs, evalTimeoutMs: options.repl.evalTimeoutMs },
    features: { leaks: options.leaks !== null, actions: options.actions !== null, capture: options.capture !== null },
    blockedThresholdMs: options.watchdog === null ? null : options.watchdog.blockedThresholdMs,
  };
}

/** The config as it arrives on another thread: a Buffer comes back a plain Uint8Array. */
export function reviveServerConfig(config: ServerConfig): ServerConfig {
  return { ...config, tokens: config.tokens.map((token) => ({ ...token, hash: Buffer.from(token.hash) })) };
}
