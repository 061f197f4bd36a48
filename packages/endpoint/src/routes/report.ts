// GET /report: Node's diagnostic report as JSON, without network lookups, with
// environment values redacted (the main thread's and every worker thread's) and the
// values of secret-looking command-line flags and URL passwords (see diagnostics/report.ts).
import type { Host } from '../host/host.js';
import { Gate } from '../gate.js';
import { sendPayload } from '../server/replies.js';
import type { Route } from '../server/route.js';

// A report stops the main thread while it is made (tens of milliseconds, more with many
// handles): one at a time, however many callers ask.
const REPORT_RETRY_AFTER_S = 1;

export function reportRoute(host: Host): Route {
  return {
    name: 'report',
    method: 'GET',
    path: '/report',
    scope: 'profile',
    gate: new Gate({
      max: 1,
      retryAfterSeconds: REPORT_RETRY_AFTER_S,
      busyMessage: 'A diagnostic report is being made for another caller; ask again in a moment.',
    }),
    async handle(_req, res, ctx) {
      const started = performance.now();
      const json = await host.report();
      ctx.auditDetail['reportMs'] = Math.round(performance.now() - started);
      sendPayload(res, 200, json);
    },
  };
}
