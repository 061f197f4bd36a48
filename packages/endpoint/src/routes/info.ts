import { arch, platform } from 'node:os';
import type { Host } from '../host/host.js';
import { instanceIdentity } from '../instance.js';
import type { InfoResponse, MainThreadStatus } from '../protocol/index.js';
import { sendJson } from '../server/replies.js';
import type { Route } from '../server/route.js';

/** A loop this late, or a main thread this slow to answer, is not waited for. */
const MAIN_WAIT_MS = 300;

/**
 * Who and where this process is, what the endpoint offers (with automatic capture's state
 * and the registered workers), who the caller is, and how the main thread is doing. It
 * answers at once while the main thread is busy (blocked, late, or slow to answer): then
 * what only the main thread knows (capture, workers) is null, and `mainThread` says why
 * and where it is stuck.
 */
export function infoRoute(host: Host, capabilities: readonly string[], mainThread: () => MainThreadStatus): Route {
  return {
    name: 'info',
    method: 'GET',
    path: '/info',
    scope: 'read',
    async handle(_req, res, ctx) {
      const status = mainThread();
      // What only the main thread knows waits for it, briefly; not at all while it is busy.
      const mainBusy = status.blocked || status.snapshot !== null || status.lagMs >= MAIN_WAIT_MS;
      const [capture, workers] = mainBusy
        ? [null, null]
        : await Promise.all([within(host.captureStatus(), MAIN_WAIT_MS), within(host.workerNames(), MAIN_WAIT_MS)]);
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

/** What `promise` gives within `ms`, else null (its late answer or failure ignored). */
function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(null);
      },
    );
  });
}
