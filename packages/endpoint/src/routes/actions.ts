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
// Every run is audited with its parameters (secret ones hidden, long values cut).
import { auditParams, parseActionParams } from '../actions/definitions.js';
import type { ActionRunResponse, ActionsResponse } from '../protocol.js';
import { hasBody, readJsonBody } from '../server/body.js';
import type { Gate } from '../server/gate.js';
import { sendError, sendJson } from '../server/replies.js';
import type { Route } from '../server/route.js';

export const actionsList: Route = {
  name: 'actions',
  method: 'GET',
  path: '/actions',
  scope: 'actions',
  enabled: (options) => options.actions !== null,
  feature: 'actions',
  handle(_req, res, ctx) {
    if (ctx.actions === null) return;
    const body: ActionsResponse = { actions: ctx.actions.list() };
    sendJson(res, 200, body);
  },
};

export const actionRun: Route = {
  name: 'action-run',
  method: 'POST',
  path: '/actions/:name',
  scope: 'actions',
  enabled: (options) => options.actions !== null,
  feature: 'actions',
  async handle(req, res, ctx) {
    const runner = ctx.actions;
    if (runner === null) return;
    const name = ctx.params['name'] ?? '';
    ctx.auditDetail['action'] = name;
    const action = runner.get(name);
    if (action === undefined) {
      return sendError(res, 'UNKNOWN_ACTION', { message: `The application has no action "${name}"; GET /actions lists them.`, details: { action: name } });
    }
    // The runner holds the slot until the action itself settles (see actions/runner.ts);
    // this request only gives it back when it never ran the action.
    const slot = runner.reserve(action);
    if (slot === null) {
      const gate = runner.gate(name) as Gate; // every action has one
      ctx.auditDetail['outcome'] = 'busy';
      return sendError(res, 'BUSY', { message: gate.busyMessage, headers: { 'retry-after': gate.retryAfterSeconds } });
    }
    try {
      let raw: unknown = undefined;
      if (hasBody(req)) {
        const body = await readJsonBody(req, ctx.options.limits.maxBodyBytes);
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
      const parsed = parseActionParams(action, raw);
      if (!parsed.ok) {
        ctx.auditDetail['outcome'] = 'invalid';
        ctx.auditDetail['error'] = parsed.message;
        return sendError(res, 'BAD_PARAM', { message: parsed.message, details: { action: name, ...(parsed.param === null ? {} : { param: parsed.param }) } });
      }
      ctx.auditDetail['params'] = auditParams(action, parsed.params);
      const outcome = await slot.run(parsed.params, ctx.token?.name ?? 'anonymous', ctx.signal);
      ctx.auditDetail['outcome'] = outcome.kind;
      ctx.auditDetail['durationMs'] = outcome.durationMs;
      switch (outcome.kind) {
        case 'ok': {
          const body: ActionRunResponse = { action: name, result: outcome.result, durationMs: outcome.durationMs };
          return sendJson(res, 200, body);
        }
        case 'failed':
          ctx.auditDetail['error'] = outcome.error.message;
          return sendError(res, 'ACTION_FAILED', {
            message: `The action "${name}" failed: ${outcome.error.message}`,
            details: { action: name, error: { name: outcome.error.name, code: outcome.error.code } },
          });
        case 'timeout':
          return sendError(res, 'ACTION_TIMEOUT', {
            message: `The action "${name}" did not finish within ${action.timeoutMs} ms; its signal was aborted, but it may still be running.`,
            details: { action: name, timeoutMs: action.timeoutMs },
          });
        case 'aborted':
          return; // the caller went away or the endpoint is closing: nobody to answer
      }
    } finally {
      slot.discard();
    }
  },
};
