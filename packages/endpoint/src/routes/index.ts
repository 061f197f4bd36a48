// Every route of the endpoint, built around what serves it: the Host (the application's
// process), the configuration, the heap-snapshot gate shared with automatic capture, and
// the main-thread watch (null when mounted). Adding a route: a file here, and a line below.
import type { Host } from '../host/host.js';
import type { ServerConfig } from '../server/config.js';
import type { Gate } from '../gate.js';
import type { RefusalCounter } from '../server/refusal-counter.js';
import type { Route } from '../server/route.js';
import { actionRoutes } from './actions.js';
import { health } from './health.js';
import { heapdumpRoute } from './heapdump.js';
import { infoRoute } from './info.js';
import { leakRoutes } from './leaks.js';
import { memoryRoute } from './memory.js';
import { metricsRoute } from './metrics.js';
import { profileRoutes } from './profile.js';
import { replRoutes } from './repl.js';
import { reportRoute } from './report.js';
import { snapshotRoutes } from './snapshots.js';
import type { ThreadWatch } from '../thread/watch.js';
import { mainThreadStatus, threadRoutes } from './thread.js';
import { workersRoute } from './workers.js';

export function createRoutes(host: Host, config: ServerConfig, heapGate: Gate, watch: ThreadWatch | null, refusals: RefusalCounter): Route[] {
  const { features } = config;
  const routes: Route[] = [
    health,
    metricsRoute(host, refusals, watch),
    memoryRoute(host),
    heapdumpRoute(host, heapGate),
    ...leakRoutes(host, features.leaks),
    ...replRoutes(host, config),
    ...profileRoutes(host),
    reportRoute(host),
    ...actionRoutes(host, features.actions),
    ...snapshotRoutes(host, features.capture),
    workersRoute(host),
    ...threadRoutes(watch),
  ];
  // `info` lists what the others offer.
  const capabilities = ['info', ...routes.filter((route) => route.disabled === undefined).map((route) => route.name)];
  return [infoRoute(host, capabilities, () => mainThreadStatus(watch)), ...routes];
}
