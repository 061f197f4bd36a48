// How the application's main thread is doing, in words: one line for `status`, the
// frames of a stack for `stack` and `blocks`.
import { basename } from 'node:path';
import type { ChalkInstance } from 'chalk';
import type { MainThreadStatus, StackFrame } from '../endpoint/protocol.js';

/** A loop this late is running JavaScript now (the endpoint's heartbeat is every 100 ms). */
const BUSY_AFTER_MS = 300;

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** `parseHugeReport (report.js:88)`: the innermost frame, short. */
export function where(frame: StackFrame): string {
  return `${frame.function} (${basename(frame.file)}:${frame.line})`;
}

/** `blocked for 12.4 s in parseHugeReport (report.js:88)`, `responsive`, `writing a heap snapshot…`. */
export function describeMainThread(status: MainThreadStatus, c: ChalkInstance): string {
  if (!status.watched) return c.dim("not watched: the endpoint is mounted in the application's server, so it cannot answer while the main thread is blocked");
  if (status.snapshot !== null) {
    return c.yellow(`writing a heap snapshot: ${seconds(status.snapshot.elapsedMs)} of an expected ${seconds(status.snapshot.expectedMs)}`);
  }
  if (status.blocked) {
    const top = status.stack?.[0];
    return (
      c.bold.red(`event loop blocked for ${seconds(status.blockedForMs)}${top === undefined ? '' : ` in ${where(top)}`}`) +
      (top === undefined && status.stackNote ? c.dim(` (${status.stackNote})`) : '')
    );
  }
  // Late but under the watchdog's threshold: running something now, not (yet) blocked.
  if (status.lagMs >= BUSY_AFTER_MS) return c.yellow(`busy: the event loop last turned ${status.lagMs} ms ago`);
  return `${c.green('responsive')} (event loop turned ${status.lagMs} ms ago)`;
}

/** `    at burn (/srv/app/server.js:12:5)` per frame, at most `max`. */
export function formatFrames(frames: readonly StackFrame[], c: ChalkInstance, max = 20): string {
  const shown = frames.slice(0, max).map((frame) => `    at ${frame.function} ${c.dim(`(${frame.file}:${frame.line}:${frame.column})`)}`);
  if (frames.length > max) shown.push(c.dim(`    … ${frames.length - max} more frames`));
  return shown.join('\n');
}
