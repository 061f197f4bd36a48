// GET /report: Node's diagnostic report as JSON, without network lookups, with
// environment values redacted (the main thread's and every worker thread's) and the
// values of secret-looking command-line flags and URL passwords (see diagnostics/report.ts).
import type { Host } from '../host/host.js';
import { sendPayload } from '../server/replies.js';
import type { Route } from '../server/route.js';

export function reportRoute(host: Host): Route {
  return {
    name: 'report',
    method: 'GET',
    path: '/report',
    scope: 'profile',
    async handle(_req, res, ctx) {
      const started = performance.now();
      const json = await host.report();
      ctx.auditDetail['reportMs'] = Math.round(performance.now() - started);
      sendPayload(res, 200, json);
    },
  };
}
