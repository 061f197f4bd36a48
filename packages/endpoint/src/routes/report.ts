// GET /report: Node's diagnostic report as JSON, without network lookups and with
// environment values redacted (see diagnostics/report.ts).
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
