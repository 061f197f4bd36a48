import type { HealthResponse } from '../protocol/index.js';
import { sendJson } from '../server/replies.js';
import type { Route } from '../server/route.js';

/**
 * Liveness of the endpoint itself. Anonymous only when the application lists it in
 * `public`; then it tells an anonymous caller nothing more (no instance header).
 */
export const health: Route = {
  name: 'health',
  method: 'GET',
  path: '/health',
  scope: 'read',
  handle(_req, res, ctx) {
    const body: HealthResponse = { status: 'ok', uptimeSeconds: Math.round(process.uptime()) };
    sendJson(res, 200, body, {}, ctx.token === null);
  },
};
