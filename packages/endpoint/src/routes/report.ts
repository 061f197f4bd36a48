// GET /report: Node's diagnostic report as JSON, without network lookups, with
// environment values redacted (the main thread's and every worker thread's) and the
// values of secret-looking command-line flags (see diagnostics/report.ts).
import { diagnosticReport } from '../diagnostics/report.js';
import { sendJson } from '../server/replies.js';
import type { Route } from '../server/route.js';

export const report: Route = {
  name: 'report',
  method: 'GET',
  path: '/report',
  scope: 'profile',
  handle(_req, res, ctx) {
    const started = performance.now();
    const body = diagnosticReport();
    ctx.auditDetail['reportMs'] = Math.round(performance.now() - started);
    sendJson(res, 200, body);
  },
};
