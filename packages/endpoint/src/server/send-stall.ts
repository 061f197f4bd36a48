// A client that stops reading would hold its answer open for ever, and with it what the
// answer holds: a heap-snapshot gate, a connection slot, a file being streamed. Once the
// answer waits on the client (a write was not taken at once), a timer of its own (not the
// socket's, which node uses for keep-alive) watches the bytes the socket hands on: a slow
// reader that takes anything goes on, and one that takes nothing for `stallMs` is cut
// off. While the answer does not wait on the client (a snapshot being written, a quiet
// stream), nothing runs.
import type { ServerResponse } from 'node:http';
import { guarded } from '../guard.js';

export function cutOffWhenStalled(res: ServerResponse, stallMs: number): void {
  const socket = res.socket;
  if (socket === null) return;
  // What the socket has handed on so far (bytesWritten counts what it still holds too).
  const handedOn = () => socket.bytesWritten - socket.writableLength;
  let watch: NodeJS.Timeout | null = null;
  const disarm = () => {
    if (watch !== null) clearInterval(watch);
    watch = null;
  };
  const arm = () => {
    if (watch !== null || res.destroyed) return;
    let last = handedOn();
    let since = performance.now();
    watch = setInterval(
      guarded('watching a stalled answer', () => {
        if (socket.writableLength === 0) return disarm();
        const now = performance.now();
        const sent = handedOn();
        if (sent !== last) {
          last = sent;
          since = now;
        } else if (now - since >= stallMs) {
          disarm();
          res.destroy();
        }
      }),
      Math.min(Math.max(stallMs / 10, 100), 5_000),
    );
    watch.unref();
  };
  const { write, end } = res;
  res.write = function (this: ServerResponse, ...args: Parameters<ServerResponse['write']>) {
    const taken = write.apply(this, args);
    if (!taken) arm();
    return taken;
  } as ServerResponse['write'];
  res.end = function (this: ServerResponse, ...args: Parameters<ServerResponse['end']>) {
    const ended = end.apply(this, args);
    // The last part may wait on the client as much as any.
    if (socket.writableLength > 0) arm();
    return ended;
  } as ServerResponse['end'];
  res.once('close', disarm);
}
