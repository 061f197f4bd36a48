/// <reference path="./undici-parts.d.ts" />
// The parts of undici the CLI uses, its Agent and its request and upgrade calls, loaded
// from the files that hold them. undici's index also loads fetch, WebSocket, cookies,
// mock agents and cache stores, which took ~80 ms of `opsctl heapdump`'s start-up before
// its request could leave (docs/benchmarks.md#the-cli-and-the-project). undici has no exports
// map, so these paths are public to Node's resolver; the bundle fixes undici's version
// when the CLI is built (scripts/bundle-cli.mjs), so a path that moved fails the build,
// not an operator's command.
import type { Agent as UndiciAgent, Dispatcher } from 'undici';
import AgentClass from 'undici/lib/dispatcher/agent.js';
import apiRequest from 'undici/lib/api/api-request.js';
import apiUpgrade from 'undici/lib/api/api-upgrade.js';

/**
 * undici's Agent, without the methods undici's index adds to every dispatcher (request,
 * stream, pipeline, connect, upgrade: not loaded here); call the functions below instead.
 */
export type Agent = Omit<UndiciAgent, 'request' | 'stream' | 'pipeline' | 'connect' | 'upgrade'>;
export const Agent = AgentClass as unknown as new (options?: UndiciAgent.Options) => Agent;
export type { Dispatcher };

type Options<T> = Omit<T, 'origin' | 'path'>;

/** What undici's request(url, { dispatcher, … }) does: `url` split into origin and path. */
export function request(url: URL, dispatcher: Agent, options: Options<Dispatcher.RequestOptions>): Promise<Dispatcher.ResponseData> {
  return apiRequest.call(dispatcher, { ...options, ...originAndPath(url) }) as Promise<Dispatcher.ResponseData>;
}

/** What undici's upgrade(url, { dispatcher, … }) does. */
export function upgrade(url: URL, dispatcher: Agent, options: Options<Dispatcher.UpgradeOptions>): Promise<Dispatcher.UpgradeData> {
  return apiUpgrade.call(dispatcher, { ...options, ...originAndPath(url) });
}

/** undici's own split (util.parseURL): http and https only, the query kept with the path. */
function originAndPath(url: URL): { origin: string; path: string } {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`not an http or https URL: ${url.protocol}`);
  return { origin: url.origin, path: `${url.pathname}${url.search}` };
}
