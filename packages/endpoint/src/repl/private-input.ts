// The client's messages to the session (protocol/repl.ts, REPL_PRIVATE_OSC) taken out of what
// the operator types before readline sees it; everything else, escape sequences of
// arrow and function keys included, passes as it came. A message is bounded: a longer
// one is dropped whole.
import { Transform, type TransformCallback } from 'node:stream';
import { REPL_PRIVATE_OSC, type ReplPrivateKind } from '../protocol/index.js';

const ESC = 0x1b;
const BEL = 0x07;
const OPEN = Buffer.from(`\u001b]${REPL_PRIVATE_OSC};`);
/** Room for 1000 lines of history. */
const MAX_PRIVATE_MESSAGE_BYTES = 256 * 1024;

export class PrivateInput extends Transform {
  readonly #onMessage: (kind: ReplPrivateKind, text: string) => void;
  /** Bytes of a message being read, or of what may still turn out to be one. */
  #pending: Buffer | null = null;

  constructor(onMessage: (kind: ReplPrivateKind, text: string) => void) {
    super();
    this.#onMessage = onMessage;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let data = this.#pending === null ? chunk : Buffer.concat([this.#pending, chunk]);
    this.#pending = null;
    let out = Buffer.alloc(0);
    for (;;) {
      const start = data.indexOf(ESC);
      if (start === -1) {
        out = Buffer.concat([out, data]);
        break;
      }
      out = Buffer.concat([out, data.subarray(0, start)]);
      data = data.subarray(start);
      const head = data.subarray(0, OPEN.length);
      if (!OPEN.subarray(0, head.length).equals(head)) {
        // Not ours (an arrow key, a function key): it passes.
        out = Buffer.concat([out, data.subarray(0, 1)]);
        data = data.subarray(1);
        continue;
      }
      const end = data.indexOf(BEL);
      if (end === -1) {
        // Incomplete: kept for the next chunk, unless it is already too long to be ours.
        if (data.length <= MAX_PRIVATE_MESSAGE_BYTES) this.#pending = data;
        break;
      }
      this.#deliver(data.subarray(OPEN.length, end).toString('latin1'));
      data = data.subarray(end + 1);
    }
    done(null, out);
  }

  #deliver(body: string): void {
    const separator = body.indexOf(';');
    const kind = body.slice(0, separator);
    if (separator === -1 || (kind !== 'history' && kind !== 'line')) return;
    this.#onMessage(kind, Buffer.from(body.slice(separator + 1), 'base64').toString('utf8'));
  }
}
