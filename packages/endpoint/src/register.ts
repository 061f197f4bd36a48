// The preload: `node --import @opsctl/endpoint/register app.js` starts the endpoint
// from environment variables, for applications whose code cannot change. Bad
// configuration is reported on stderr and the application starts without the endpoint:
// a maintenance tool must never be the reason a service is down.
//
//   OPSCTL_TOKENS                  name:sha256:scopes entries (required; opsctl token new)
//   OPSCTL_HOST, OPSCTL_PORT       default 127.0.0.1:9500
//   OPSCTL_TLS_CERT, OPSCTL_TLS_KEY         PEM files: serve https
//   OPSCTL_TLS_CLIENT_CA           PEM file: require client certificates signed by it (needs CERT and KEY)
//   OPSCTL_ALLOW_INSECURE_BIND=1   plain http on a non-loopback host (behind a TLS proxy)
//   OPSCTL_REPL=1                  enable the REPL (its context: globals and require)
//   OPSCTL_PUBLIC_HEALTH=1         health answers anonymously
//   OPSCTL_APP_NAME, OPSCTL_MEMORY_LIMIT_BYTES, OPSCTL_HEAP_SNAPSHOT_DIR
//   OPSCTL_CAPTURE_DIR             automatic heap snapshots into this directory, when
//     OPSCTL_CAPTURE_HEAP_ABOVE_BYTES (post-GC heap above), OPSCTL_CAPTURE_ON_LEAK=1
//     (leak suspected) or OPSCTL_CAPTURE_NEAR_HEAP_LIMIT (a share of the heap limit, e.g. 0.85);
//     OPSCTL_CAPTURE_COOLDOWN_MS, OPSCTL_CAPTURE_MAX_COUNT, OPSCTL_CAPTURE_MAX_DISK_BYTES
import { readFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { createMaintenanceEndpoint } from './endpoint.js';
import { EndpointConfigError } from './errors.js';
import type { EndpointOptions } from './options.js';
import { maskTokens } from './tokens.js';

/** Builds endpoint options from the environment; problems it can see go into `problems`. */
export function optionsFromEnv(env: NodeJS.ProcessEnv, problems: string[]): EndpointOptions {
  // A variable that is set must mean something: an empty certificate, key or CA would
  // otherwise quietly serve plain http, or TLS without client certificates.
  const file = (name: string): string | undefined => {
    const path = env[name];
    if (path === undefined) return undefined;
    if (path.trim() === '') {
      problems.push(`${name} is set but empty; give the path of a PEM file, or unset it`);
      return undefined;
    }
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      problems.push(`${name}=${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
    if (text.trim() === '') problems.push(`${name}=${path} is an empty file; it must hold PEM data`);
    return text;
  };
  const number = (name: string): number | undefined => {
    const value = env[name];
    if (value === undefined || value === '') return undefined;
    // Decimal digits only: Number() would also take "0x9a20", " 39520 " and "1e3".
    if (!/^\d{1,15}$/.test(value)) {
      problems.push(`${name} must be a whole number in decimal digits, not "${maskTokens(value.slice(0, 40))}"`);
      return undefined;
    }
    return Number(value);
  };
  const flag = (name: string) => env[name] === '1' || env[name] === 'true';
  const cert = file('OPSCTL_TLS_CERT');
  const key = file('OPSCTL_TLS_KEY');
  const clientCa = file('OPSCTL_TLS_CLIENT_CA');
  if ((cert === undefined) !== (key === undefined) && problems.length === 0) problems.push('OPSCTL_TLS_CERT and OPSCTL_TLS_KEY must be given together');
  // Client certificates exist only over TLS: without it the endpoint would serve plain
  // http with none of the checking its operator asked for.
  if (env['OPSCTL_TLS_CLIENT_CA'] !== undefined && env['OPSCTL_TLS_CERT'] === undefined && env['OPSCTL_TLS_KEY'] === undefined) {
    problems.push('OPSCTL_TLS_CLIENT_CA needs OPSCTL_TLS_CERT and OPSCTL_TLS_KEY: client certificates are checked only over TLS');
  }
  const port = number('OPSCTL_PORT');
  const memoryLimitBytes = number('OPSCTL_MEMORY_LIMIT_BYTES');
  const ratio = (name: string): number | undefined => {
    const value = env[name];
    if (value === undefined || value === '') return undefined;
    const n = Number(value);
    if (!(n > 0 && n < 1)) problems.push(`${name} must be a number between 0 and 1, such as 0.85, not "${maskTokens(value.slice(0, 40))}"`);
    return n;
  };
  const captureDir = env['OPSCTL_CAPTURE_DIR'];
  const capture = captureDir
    ? {
        dir: captureDir,
        rules: defined({
          heapAboveBytes: number('OPSCTL_CAPTURE_HEAP_ABOVE_BYTES'),
          onLeakSuspected: flag('OPSCTL_CAPTURE_ON_LEAK') || undefined,
          nearHeapLimitRatio: ratio('OPSCTL_CAPTURE_NEAR_HEAP_LIMIT'),
        }),
        ...defined({
          cooldownMs: number('OPSCTL_CAPTURE_COOLDOWN_MS'),
          maxCount: number('OPSCTL_CAPTURE_MAX_COUNT'),
          maxDiskBytes: number('OPSCTL_CAPTURE_MAX_DISK_BYTES'),
        }),
      }
    : undefined;
  return {
    tokens: env['OPSCTL_TOKENS'],
    unref: true,
    ...(env['OPSCTL_HOST'] ? { host: env['OPSCTL_HOST'] } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(cert && key ? { tls: { cert, key, ...(clientCa ? { ca: clientCa, requestCert: true, rejectUnauthorized: true } : {}) } } : {}),
    ...(flag('OPSCTL_ALLOW_INSECURE_BIND') ? { allowInsecureBind: true } : {}),
    ...(flag('OPSCTL_REPL') ? { repl: {} } : {}),
    ...(flag('OPSCTL_PUBLIC_HEALTH') ? { public: ['health'] } : {}),
    ...(env['OPSCTL_APP_NAME'] ? { app: { name: env['OPSCTL_APP_NAME'] } } : {}),
    ...(memoryLimitBytes !== undefined ? { memoryLimitBytes } : {}),
    ...(env['OPSCTL_HEAP_SNAPSHOT_DIR'] ? { heapSnapshot: { dir: env['OPSCTL_HEAP_SNAPSHOT_DIR'] } } : {}),
    ...(capture ? { capture } : {}),
  };
}

/** The object without its undefined fields. */
function defined<T extends Record<string, unknown>>(fields: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

async function start(): Promise<void> {
  // A worker thread of the application (or the endpoint's own) inherits the preload:
  // one endpoint per process, started by the main thread.
  if (!isMainThread) return;
  const problems: string[] = [];
  const options = optionsFromEnv(process.env, problems);
  try {
    if (problems.length > 0) throw new EndpointConfigError(problems);
    const endpoint = createMaintenanceEndpoint(options);
    const { url } = await endpoint.listen();
    process.stderr.write(`opsctl: maintenance endpoint listening on ${url}\n`);
  } catch (error) {
    const message = error instanceof EndpointConfigError ? error.message : `opsctl endpoint: ${(error as Error).message}`;
    process.stderr.write(`${message}\nopsctl: the application runs without its maintenance endpoint.\n`);
  }
}

await start();
