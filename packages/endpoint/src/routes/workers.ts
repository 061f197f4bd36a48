// GET /workers: the worker threads the application registered, with each one's heap
// statistics where Node can read them (22.16+). A worker's heap snapshot is
// GET /heapdump?worker=NAME.
import type { WorkersResponse } from '../protocol.js';
import { sendJson } from '../server/replies.js';
import type { Route } from '../server/route.js';

export const workers: Route = {
  name: 'workers',
  method: 'GET',
  path: '/workers',
  scope: 'read',
  async handle(_req, res, ctx) {
    const body: WorkersResponse = { workers: await ctx.workers.describe() };
    sendJson(res, 200, body);
  },
};
