// The identity of this process, computed once: sent on every response so a client
// behind a load balancer can tell when it reached a different process.
import { hostname } from 'node:os';

const startTime = new Date(Date.now() - Math.round(process.uptime() * 1000));

export const instanceIdentity = Object.freeze({
  host: hostname(),
  pid: process.pid,
  startTime: startTime.toISOString(),
});

/** `<host>; pid=<pid>; start=<ISO time>` */
export const instanceHeaderValue = `${instanceIdentity.host}; pid=${instanceIdentity.pid}; start=${instanceIdentity.startTime}`;
