// Text from the endpoint is printed on the operator's terminal, so a malicious or
// compromised endpoint must not be able to send terminal control sequences with it:
// rewrite the screen, set the window title, write the clipboard (OSC 52), or hide
// text with bidirectional overrides. Strings are made printable where they enter the
// CLI (client/http.ts), and again where errors are printed (ui/output.ts). Whole
// escape sequences go, not only their first character: "ESC]0;title BEL" would
// otherwise leave "]0;title" on the screen.
import { stripVTControlCharacters } from 'node:util';

// C0 controls but tab and newline, DEL, C1 controls (U+009B is a one-character CSI),
// and the bidirectional embeddings, overrides and isolates.
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `text` without terminal escape sequences and control characters; tabs and newlines stay. */
export function printable(text: string): string {
  return stripVTControlCharacters(text).replace(UNPRINTABLE, '');
}

/** A parsed JSON value with every string in it (keys too) made printable. */
function printableDeep<T>(value: T): T {
  if (typeof value === 'string') return printable(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => printableDeep(item)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[printable(key)] = printableDeep(item);
    return out as T;
  }
  return value;
}

/** Parses JSON text from the endpoint, with every string made printable. */
export function parseEndpointJson<T>(text: string): T {
  return printableDeep(JSON.parse(text) as T);
}

/**
 * JSON text with DEL and the C1 controls escaped as \u00XX. JSON.stringify escapes only
 * C0, and a terminal shown `--json` output could still act on U+009B (CSI).
 */
export function escapeJsonControls(json: string): string {
  return json.replace(/[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
