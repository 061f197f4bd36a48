// Live answers streamed as NDJSON (a leak watch, the watchdog's blocks): one JSON line
// per event, a heartbeat while nothing happens, and a bounded buffer for clients that
// stop reading. The stream ends when the request's signal aborts (the client went
// away, or the endpoint is closing).
import type { ServerResponse } from 'node:http';
import { setCommonHeaders } from './replies.js';

/** Often enough for proxies and clients to see a live stream, rarely enough to cost nothing. */
export const HEARTBEAT_MS = 15_000;
/** Unsent stream data kept for a slow client; past it, lines are dropped (about 100 samples). */
const STREAM_BUFFER_BYTES = 256 * 1024;

export interface NdjsonStream {
  /** Writes one line, unless the client is STREAM_BUFFER_BYTES behind. */
  send(line: unknown): void;
  /** Called once when the stream ends. */
  onEnd(stop: () => void): void;
}

export function startNdjson(res: ServerResponse, signal: AbortSignal, heartbeatMs: number): NdjsonStream {
  setCommonHeaders(res);
  res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'x-accel-buffering': 'no' });
  // A client that stops reading gets no more lines until it catches up: the stream's
  // memory stays bounded whatever it does.
  const send = (line: unknown) => {
    if (res.writableLength < STREAM_BUFFER_BYTES) res.write(`${JSON.stringify(line)}\n`);
  };
  const heartbeat = setInterval(() => send({ type: 'heartbeat', time: Date.now() }), heartbeatMs);
  heartbeat.unref();
  const stops: (() => void)[] = [];
  const end = () => {
    clearInterval(heartbeat);
    for (const stop of stops) stop();
    if (!res.writableEnded) res.end();
  };
  if (signal.aborted) queueMicrotask(end);
  else signal.addEventListener('abort', end, { once: true });
  return { send, onEnd: (stop) => void stops.push(stop) };
}
