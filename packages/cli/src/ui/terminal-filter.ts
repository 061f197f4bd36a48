// The interactive REPL is a raw terminal stream from the process: node's REPL moves the
// cursor, erases and colours with CSI sequences, and those must pass. What a REPL never
// needs, and a malicious endpoint could use, is dropped: OSC (window title, clipboard
// writes with OSC 52, hyperlinks), DCS, SOS, PM and APC strings, C1 controls (with
// the sequences they start: node never writes them), CSI window operations (final
// byte "t", which can make a terminal type a reply), and bidirectional overrides. The
// state carries across chunks, so a sequence split between two reads is still caught.
// The session's own messages for this program (an OSC string with the endpoint's
// REPL_PRIVATE_OSC number) are handed to `onPrivate` instead, up to a bounded size.

import { REPL_PRIVATE_OSC } from '../endpoint/protocol.js';

const ESC = '\u001b';
const BEL = '\u0007';

type State = 'text' | 'escape' | 'csi' | 'string' | 'stringEscape';

const BIDI = /[\u202a-\u202e\u2066-\u2069]/;
/** A private message longer than this is dropped: the session sends one line of code at a time. */
const MAX_PRIVATE_CHARS = 64 * 1024;

export class TerminalFilter {
  #state: State = 'text';
  #csi = '';
  /** False for a CSI started by the C1 character U+009B: dropped whole. */
  #keepCsi = true;
  /** The OSC string being read, while it may still be one of the session's messages. */
  #osc: string | null = null;
  readonly #onPrivate: (kind: string, text: string) => void;

  constructor(onPrivate: (kind: string, text: string) => void = () => {}) {
    this.#onPrivate = onPrivate;
  }

  /** The part of `chunk` that may reach the terminal. */
  push(chunk: string): string {
    let out = '';
    for (const char of chunk) {
      const code = char.codePointAt(0) as number;
      switch (this.#state) {
        case 'text':
          if (char === ESC) this.#state = 'escape';
          else if (code === 0x9b) this.#startCsi(false);
          else if (code === 0x9d || code === 0x90 || code === 0x98 || code === 0x9e || code === 0x9f) this.#state = 'string';
          else if ((code < 0x80 || code > 0x9f) && !BIDI.test(char)) out += char;
          break;
        case 'escape':
          if (char === '[') this.#startCsi(true);
          else if (char === ']') {
            this.#state = 'string';
            this.#osc = '';
          } else if (char === 'P' || char === 'X' || char === '^' || char === '_') this.#state = 'string';
          else {
            // Two-character sequences (ESC 7, ESC 8, ESC =, ESC >, ESC c…): harmless, kept.
            this.#state = 'text';
            out += ESC + char;
          }
          break;
        case 'csi':
          this.#csi += char;
          // Parameters and intermediates are 0x20-0x3f; a final byte 0x40-0x7e ends it.
          if (code >= 0x40 && code <= 0x7e) {
            if (char !== 't' && this.#keepCsi) out += `${ESC}[${this.#csi}`;
            this.#state = 'text';
          } else if (code < 0x20 || code > 0x3f || this.#csi.length > 64) {
            this.#state = 'text';
          }
          break;
        case 'string':
          // Ends with BEL or ST (ESC \ or U+009C); everything inside is dropped.
          if (char === BEL || code === 0x9c) this.#endString();
          else if (char === ESC) this.#state = 'stringEscape';
          else if (this.#osc !== null) this.#osc = this.#osc.length < MAX_PRIVATE_CHARS ? this.#osc + char : null;
          break;
        case 'stringEscape':
          if (char === '\\') this.#endString();
          else this.#state = 'string';
          break;
      }
    }
    return out;
  }

  #endString(): void {
    this.#state = 'text';
    const osc = this.#osc;
    this.#osc = null;
    if (osc === null || !osc.startsWith(`${REPL_PRIVATE_OSC};`)) return;
    const [kind = '', base64 = ''] = osc.slice(REPL_PRIVATE_OSC.length + 1).split(';');
    this.#onPrivate(kind, Buffer.from(base64, 'base64').toString('utf8'));
  }

  #startCsi(keep: boolean): void {
    this.#state = 'csi';
    this.#csi = '';
    this.#keepCsi = keep;
  }
}
