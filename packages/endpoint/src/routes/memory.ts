import type { Host } from '../host/host.js';
import { sendJson } from '../server/replies.js';
import type { Route } from '../server/route.js';

/** How memory stands: process usage, V8's heap and its spaces, and the limit the process lives under. */
export function memoryRoute(host: Host): Route {
  return {
    name: 'memory',
    method: 'GET',
    path: '/memory',
    scope: 'read',
    async handle(_req, res) {
      sendJson(res, 200, await host.memory());
    },
  };
}
