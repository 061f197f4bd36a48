// GET /actions: the application's actions, with their parameter schemas.
// POST /actions/:name: runs one with { "params": { ... } } (or no body):
//
//   404 UNKNOWN_ACTION   no action by that name
//   429 BUSY             the action already runs as often as it may (default once); a run
//                        counts until the action settles, even after its caller had 504
//   400 BAD_PARAM        a parameter is unknown, missing or of the wrong type; details.param names it
//   200                  { action, result, durationMs }: what the action returned
//   422 ACTION_FAILED    the action threw: its message, and its error's name and code in details
//   504 ACTION_TIMEOUT   its time limit passed; its signal is aborted, but code cannot be stopped
//
// Every run is audited with its parameters (secret ones hidden, long values cut). The
// action runs on the main thread (the Host), where the application's code is.
import type { Host } from '../host/host.js';
import type { ActionsResponse } from '../protocol/index.js';
import { hasBody, readJsonBody } from '../server/body.js';
import { sendError, sendJson, sendPayload } from '../server/replies.js';
import { disabledRoute, notEnabled, type Route } from '../server/route.js';

const FEATURE = 'actions';

export function actionRoutes(host: Host, enabled: boolean): Route[] {
  const list = { name: 'actions', method: 'GET', path: '/actions', scope: 'actions' } as const;
  const run = { name: 'action-run', method: 'POST', path: '/actions/:name', scope: 'actions' } as const;
  if (!enabled) return [disabledRoute(list, notEnabled(FEATURE)), disabledRoute(run, notEnabled(FEATURE))];
  return [
    {
      ...list,
      async handle(_req, res) {
        const body: ActionsResponse = { actions: await host.actions() };
        sendJson(res, 200, body);
      },
    },
    {
      ...run,
      async handle(req, res, ctx) {
        const name = ctx.params['name'] ?? '';
        ctx.auditDetail['action'] = name;
        let raw: unknown;
        if (hasBody(req)) {
          const body = await readJsonBody(req, ctx.config.limits.maxBodyBytes);
          if (!body.ok) {
            res.setHeader('connection', 'close');
            return sendError(res, body.code, { message: body.message });
          }
          const value = body.value as Record<string, unknown> | null;
          if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.keys(value).some((key) => key !== 'params')) {
            return sendError(res, 'BAD_PARAM', { message: 'The body must be { "params": { "name": value, ... } }.' });
          }
          raw = value['params'];
        }
        const outcome = await host.runAction(name, raw, ctx.caller, ctx.signal);
        if (outcome.kind !== 'unknown' && outcome.kind !== 'busy' && outcome.kind !== 'invalid') {
          ctx.auditDetail['params'] = outcome.params;
          ctx.auditDetail['durationMs'] = outcome.durationMs;
        }
        ctx.auditDetail['outcome'] = outcome.kind;
        switch (outcome.kind) {
          case 'unknown':
            return sendError(res, 'UNKNOWN_ACTION', {
              message: `The application has no action "${name}"; GET /actions lists them.`,
              details: { action: name },
            });
          case 'busy':
            return sendError(res, 'BUSY', { message: outcome.message, headers: { 'retry-after': outcome.retryAfterSeconds } });
          case 'invalid':
            ctx.auditDetail['error'] = outcome.message;
            return sendError(res, 'BAD_PARAM', {
              message: outcome.message,
              details: { action: name, ...(outcome.param === null ? {} : { param: outcome.param }) },
            });
          case 'ok': {
            // An ActionRunResponse, around the result's JSON as the main thread made it (not parsed again here).
            const head = `{"action":${JSON.stringify(name)},"result":`;
            return sendPayload(res, 200, Buffer.concat([Buffer.from(head), outcome.resultJson, Buffer.from(`,"durationMs":${outcome.durationMs}}`)]));
          }
          case 'failed':
            ctx.auditDetail['error'] = outcome.error.message;
            return sendError(res, 'ACTION_FAILED', {
              message: `The action "${name}" failed: ${outcome.error.message}`,
              details: { action: name, error: { name: outcome.error.name, code: outcome.error.code } },
            });
          case 'timeout':
            return sendError(res, 'ACTION_TIMEOUT', {
              message: `The action "${name}" did not finish within ${outcome.timeoutMs} ms; its signal was aborted, but it may still be running.`,
              details: { action: name, timeoutMs: outcome.timeoutMs },
            });
          case 'aborted':
            return; // the caller went away or the endpoint is closing: nobody to answer
        }
      },
    },
  ];
}
