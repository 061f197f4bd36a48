// The URL of a route under a target's URL (which may carry a path prefix, behind a proxy).
// Built by setting the path, never by resolving a relative reference: a target given as
// http://127.0.0.1:9//evil.example/ would make `//evil.example/info` a reference to
// another host, reached with the token, in clear text since the target looked like loopback.

/** `route` (an absolute path) under `base`'s path, on `base`'s host; no query, no fragment. */
export function urlUnder(base: URL, route: string): URL {
  const target = new URL(base.href);
  target.pathname = base.pathname.replace(/\/$/, '') + route;
  target.search = '';
  target.hash = '';
  return target;
}
