import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { PortDuplex, WINDOW_BYTES } from './port-duplex.js';

const open: PortDuplex[] = [];
afterEach(() => {
  for (const stream of open.splice(0)) stream.destroy();
});

function pair(): [PortDuplex, PortDuplex] {
  const { port1, port2 } = new MessageChannel();
  const ends: [PortDuplex, PortDuplex] = [new PortDuplex(port1), new PortDuplex(port2)];
  open.push(...ends);
  return ends;
}

describe('PortDuplex', () => {
  it('carries exactly the bytes of a view on a larger buffer, not the buffer behind it', async () => {
    const [a, b] = pair();
    const slab = Buffer.alloc(1024 * 1024, 0x61);
    slab.write('hello', 1000);
    const frames: Uint8Array[] = [];
    b.on('data', (chunk: Buffer) => frames.push(chunk));
    a.write(slab.subarray(1000, 1005));
    await new Promise((r) => setTimeout(r, 50));
    expect(Buffer.concat(frames).toString()).toBe('hello');
    expect(frames.every((frame) => frame.buffer.byteLength === frame.byteLength)).toBe(true);
    // The sender's buffer is untouched: what moved was a copy of its own.
    expect(slab.subarray(1000, 1005).toString()).toBe('hello');
  });

  it('holds the writer back once a window is unread, and lets it go on when the reader reads', async () => {
    const [a, b] = pair();
    b.pause();
    const chunk = Buffer.alloc(64 * 1024);
    let writes = 0;
    while (a.write(chunk)) writes++;
    await new Promise((r) => setTimeout(r, 100));
    const sentBeforeReading = a.writableLength;
    expect(writes * chunk.length).toBeLessThanOrEqual(WINDOW_BYTES + a.writableHighWaterMark);
    expect(sentBeforeReading).toBeGreaterThan(0);
    let received = 0;
    b.on('data', (data: Buffer) => (received += data.length));
    b.resume();
    await new Promise<void>((resolve) => a.once('drain', resolve));
    expect(received).toBeGreaterThan(0);
  });

  it('ends the other side when one side ends', async () => {
    const [a, b] = pair();
    const ended = new Promise<void>((resolve) => b.once('end', resolve));
    b.resume();
    a.end('bye');
    await ended;
  });
});
