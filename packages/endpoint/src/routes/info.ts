import { arch, platform } from 'node:os';
import type { Host } from '../host/host.js';
import { instanceIdentity } from '../instance.js';
import type { InfoResponse, MainThreadStatus } from '../protocol.js';
import { sendJson } from '../server/replies.js';
import type { Route } from '../server/route.js';

/**
 * Who and where this process is, what the endpoint offers (with automatic capture's state
 * and the registered workers), who the caller is, and how the main thread is doing. It
 * answers while the main thread is blocked: then what only the main thread knows
 * (capture, workers) is null, and `mainThread` says why and where it is stuck.
 */
export function infoRoute(host: Host, capabilities: readonly string[], mainThread: () => MainThreadStatus): Route {
  return {
    name: 'info',
    method: 'GET',
    path: '/info',
    scope: 'read',
    async handle(_req, res, ctx) {
      const status = mainThread();
      // What only the main thread knows waits for it; not while it is blocked, or writing a snapshot.
      const mainBusy = status.blocked || status.snapshot !== null;
      const [capture, workers] = mainBusy ? [null, null] : await Promise.all([host.captureStatus(), host.workerNames()]);
      const body: InfoResponse = {
        protocol: 1,
        instance: {
          ...instanceIdentity,
          uptimeSeconds: Math.round(process.uptime()),
          node: process.version,
          v8: process.versions.v8,
          platform: platform(),
          arch: arch(),
          app: { ...ctx.config.app },
        },
        caller: { token: ctx.token?.name ?? '', scopes: [...(ctx.token?.scopes ?? [])] },
        capabilities: [...capabilities],
        capture,
        workers,
        mainThread: status,
      };
      sendJson(res, 200, body);
    },
  };
}
