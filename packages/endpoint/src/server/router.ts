// Routing: a path either names a route (then the method must match, else 405 with
// Allow) or nothing (404). A route's path is fixed, or ends in one `:name` segment
// (`/snapshots/:id`) that matches exactly one segment of safe characters; no other
// patterns, so what a path means is plain from the route list.
import { PATH_SEGMENT_PATTERN } from '../protocol/index.js';
import type { Route } from './route.js';

export type RouteMatch =
  | { kind: 'found'; route: Route; params: Readonly<Record<string, string>> }
  | { kind: 'not-found' }
  | { kind: 'method-not-allowed'; allow: string };

const PARAM = /^(.*)\/:([A-Za-z]+)$/;

export class Router {
  readonly #byPath = new Map<string, Route[]>();
  /** Routes ending in a `:name` segment, by the path before it. */
  readonly #byPrefix = new Map<string, { param: string; routes: Route[] }>();

  constructor(routes: readonly Route[]) {
    for (const route of routes) {
      const pattern = PARAM.exec(route.path);
      let list: Route[];
      if (pattern) {
        const [, prefix = '', param = ''] = pattern;
        const entry = this.#byPrefix.get(prefix) ?? { param, routes: [] };
        if (entry.param !== param) throw new Error(`routes under ${prefix}/ name their parameter both :${entry.param} and :${param}`);
        this.#byPrefix.set(prefix, entry);
        list = entry.routes;
      } else {
        list = this.#byPath.get(route.path) ?? [];
        this.#byPath.set(route.path, list);
      }
      if (list.some((r) => r.method === route.method)) throw new Error(`duplicate route ${route.method} ${route.path}`);
      list.push(route);
    }
  }

  match(method: string, path: string): RouteMatch {
    let routes = this.#byPath.get(path);
    let params: Record<string, string> = {};
    if (routes === undefined) {
      const cut = path.lastIndexOf('/');
      const entry = this.#byPrefix.get(path.slice(0, cut));
      const segment = path.slice(cut + 1);
      if (cut < 0 || entry === undefined || !PATH_SEGMENT_PATTERN.test(segment)) return { kind: 'not-found' };
      routes = entry.routes;
      params = { [entry.param]: segment };
    }
    const route = routes.find((r) => r.method === method);
    if (route !== undefined) return { kind: 'found', route, params };
    return { kind: 'method-not-allowed', allow: routes.map((r) => r.method).join(', ') };
  }

  /** The route with this name, if any: how public routes are recognised before authentication. */
  byName(name: string): Route | undefined {
    for (const routes of [...this.#byPath.values(), ...[...this.#byPrefix.values()].map((entry) => entry.routes)]) {
      const route = routes.find((r) => r.name === name);
      if (route !== undefined) return route;
    }
    return undefined;
  }
}
