import { arch, platform } from 'node:os';
import { instanceIdentity } from '../instance.js';
import type { InfoResponse } from '../protocol.js';
import { sendJson } from '../server/replies.js';
import type { Route } from '../server/route.js';

/** Who and where this process is, what the endpoint offers (with automatic capture's state and the registered workers), and who the caller is. */
export const info: Route = {
  name: 'info',
  method: 'GET',
  path: '/info',
  scope: 'read',
  async handle(_req, res, ctx) {
    const body: InfoResponse = {
      protocol: 1,
      instance: {
        ...instanceIdentity,
        uptimeSeconds: Math.round(process.uptime()),
        node: process.version,
        v8: process.versions.v8,
        platform: platform(),
        arch: arch(),
        app: { ...ctx.options.app },
      },
      caller: { token: ctx.token?.name ?? '', scopes: [...(ctx.token?.scopes ?? [])] },
      capabilities: [...ctx.capabilities],
      capture: ctx.capture === null ? null : await ctx.capture.status(),
      workers: ctx.workers.names(),
    };
    sendJson(res, 200, body);
  },
};
