// GET /workers: the worker threads the application registered, with each one's heap
// statistics where Node can read them (22.16+). A worker's heap snapshot is
// GET /heapdump?worker=NAME.
import type { Host } from '../host/host.js';
import type { WorkersResponse } from '../protocol/index.js';
import { sendJson } from '../server/replies.js';
import type { Route } from '../server/route.js';

export function workersRoute(host: Host): Route {
  return {
    name: 'workers',
    method: 'GET',
    path: '/workers',
    scope: 'read',
    async handle(_req, res) {
      const body: WorkersResponse = { workers: await host.workers() };
      sendJson(res, 200, body);
    },
  };
}
