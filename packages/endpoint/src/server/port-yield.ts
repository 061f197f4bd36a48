// The endpoint gives its port up to the application. The preload binds before the
// application's code runs, so an application listening on the endpoint's port (both
// default to 9500, or a copy-pasted OPSCTL_PORT) would fail to start with EADDRINUSE,
// and a maintenance tool must never be why a service is down. Node announces every
// listen() before it binds (diagnostics_channel `tracing:net.server.listen:asyncStart`,
// per thread: the endpoint's own server, on its own thread, is not seen here); when a
// server of the application asks for the endpoint's port on an address that overlaps,
// the endpoint's thread closes its listener first (closing a listening handle frees the
// port at once) while the application's listen() waits, and then goes ahead.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { guarded } from '../guard.js';

const LISTEN_START = 'tracing:net.server.listen:asyncStart';
const ANY_ADDRESS = new Set(['', '0.0.0.0', '::', '::0']);

/**
 * Watches for a server of this thread asking for `port`; calls `yieldPort` (which must
 * free the port before it returns) when one does. Returns the unwatch.
 */
export function yieldPortOnConflict(port: number, host: string, yieldPort: () => void): () => void {
  const onListen = guarded("watching for a server on the endpoint's port", (message: unknown) => {
    const { options } = message as { options?: { port?: unknown; host?: unknown } };
    if (options === undefined || Number(options.port) !== port || port === 0) return;
    if (!addressesOverlap(typeof options.host === 'string' ? options.host : '', host)) return;
    stop();
    yieldPort();
  });
  const stop = () => unsubscribe(LISTEN_START, onListen);
  subscribe(LISTEN_START, onListen);
  return stop;
}

/** Whether binding both addresses on one port would collide; a name (localhost) counts as a collision. */
function addressesOverlap(a: string, b: string): boolean {
  return a === b || ANY_ADDRESS.has(a) || ANY_ADDRESS.has(b) || !isIpLiteral(a) || !isIpLiteral(b);
}

function isIpLiteral(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
