// A byte stream between the endpoint's thread and the application's main thread over a
// MessagePort: a REPL session's socket lives on one side, its REPLServer on the other.
// A MessagePort has no backpressure of its own, so the stream has a window: a writer
// stops once WINDOW_BYTES are unacknowledged, and the reader acknowledges what its
// consumer has taken. Either side ending or the port closing ends the stream.
import type { MessagePort } from 'node:worker_threads';
import { Duplex } from 'node:stream';

/** Bytes in flight before the writer waits for the reader. */
export const WINDOW_BYTES = 256 * 1024;

type Frame = { data: Uint8Array } | { ack: number } | { end: true };

export class PortDuplex extends Duplex {
  readonly #port: MessagePort;
  #unacknowledged = 0;
  #waiting: (() => void) | null = null;
  /** Bytes received but not acknowledged: the consumer has not asked for more yet. */
  #owed = 0;
  #closed = false;

  constructor(port: MessagePort) {
    super({ allowHalfOpen: false });
    this.#port = port;
    port.on('message', (frame: Frame) => this.#receive(frame));
    port.once('close', () => this.#portClosed());
  }

  override _read(): void {
    // The consumer wants more: what was held back may now be acknowledged.
    if (this.#owed > 0 && !this.#closed) this.#port.postMessage({ ack: this.#owed } satisfies Frame);
    this.#owed = 0;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.#send([chunk], done);
  }

  override _writev(chunks: { chunk: Buffer }[], done: (error?: Error | null) => void): void {
    this.#send(
      chunks.map(({ chunk }) => chunk),
      done,
    );
  }

  /**
   * Sends the chunks as one frame of exactly their bytes, moved rather than copied again:
   * a Buffer is often a view on a larger ArrayBuffer (a pool slab, a read buffer), which
   * posting the view would clone whole, past what the window counts.
   */
  #send(chunks: Buffer[], done: (error?: Error | null) => void): void {
    if (this.#closed) return done(new Error('the other thread closed the stream'));
    const data = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
    let at = 0;
    for (const chunk of chunks) {
      data.set(chunk, at);
      at += chunk.length;
    }
    this.#unacknowledged += data.length;
    this.#port.postMessage({ data } satisfies Frame, [data.buffer]);
    if (this.#unacknowledged < WINDOW_BYTES) return done();
    this.#waiting = () => done();
  }

  override _final(done: (error?: Error | null) => void): void {
    if (!this.#closed) this.#port.postMessage({ end: true } satisfies Frame);
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.#closed = true;
    this.#port.close();
    this.#waiting?.();
    this.#waiting = null;
    done(error);
  }

  #receive(frame: Frame): void {
    if ('data' in frame) {
      const chunk = Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
      // Acknowledged at once while the consumer keeps up, else when it next reads: a
      // paused consumer holds the sender back.
      if (this.push(chunk)) this.#port.postMessage({ ack: chunk.length } satisfies Frame);
      else this.#owed += chunk.length;
    } else if ('ack' in frame) {
      this.#unacknowledged -= frame.ack;
      if (this.#unacknowledged < WINDOW_BYTES && this.#waiting !== null) {
        const resume = this.#waiting;
        this.#waiting = null;
        resume();
      }
    } else {
      this.push(null);
    }
  }

  #portClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.push(null);
    this.destroy();
  }
}
