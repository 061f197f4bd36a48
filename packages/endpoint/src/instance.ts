// The identity of this process, computed once: sent on every response so a client
// behind a load balancer can tell when it reached a different process. The endpoint's
// own thread is given the main thread's identity (workerData), so both say the same.
import { hostname } from 'node:os';
import { isMainThread, workerData } from 'node:worker_threads';

export interface InstanceIdentity {
  host: string;
  pid: number;
  startTime: string;
}

function identify(): InstanceIdentity {
  const given = isMainThread ? undefined : (workerData as { instance?: InstanceIdentity } | null)?.instance;
  if (given !== undefined) return given;
  return { host: hostname(), pid: process.pid, startTime: new Date(Date.now() - Math.round(process.uptime() * 1000)).toISOString() };
}

export const instanceIdentity: Readonly<InstanceIdentity> = Object.freeze(identify());

/** `<host>; pid=<pid>; start=<ISO time>` */
export const instanceHeaderValue = `${instanceIdentity.host}; pid=${instanceIdentity.pid}; start=${instanceIdentity.startTime}`;

/** `<app>-<host>-<pid>-<UTC timestamp><extension>`, safe in a header and on any file system. */
export function instanceFileName(app: string, extension: string, now = new Date()): string {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 64);
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${safe(app)}-${safe(instanceIdentity.host)}-${instanceIdentity.pid}-${stamp}${extension}`;
}
