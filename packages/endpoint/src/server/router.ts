// Exact-path routing: a path either names a route (then the method must match, else
// 405 with Allow) or nothing (404). No patterns: every route is a fixed path.
import type { Route } from './route.js';

export type RouteMatch =
  | { kind: 'found'; route: Route }
  | { kind: 'not-found' }
  | { kind: 'method-not-allowed'; allow: string };

export class Router {
  readonly #byPath = new Map<string, Route[]>();

  constructor(routes: readonly Route[]) {
    for (const route of routes) {
      const list = this.#byPath.get(route.path) ?? [];
      if (list.some((r) => r.method === route.method)) throw new Error(`duplicate route ${route.method} ${route.path}`);
      list.push(route);
      this.#byPath.set(route.path, list);
    }
  }

  match(method: string, path: string): RouteMatch {
    const routes = this.#byPath.get(path);
    if (routes === undefined) return { kind: 'not-found' };
    const route = routes.find((r) => r.method === method);
    if (route !== undefined) return { kind: 'found', route };
    return { kind: 'method-not-allowed', allow: routes.map((r) => r.method).join(', ') };
  }

  /** The route with this name, if any: how public routes are recognised before authentication. */
  byName(name: string): Route | undefined {
    for (const routes of this.#byPath.values()) {
      const route = routes.find((r) => r.name === name);
      if (route !== undefined) return route;
    }
    return undefined;
  }
}
