// How a long operation shows that it is alive, decided from the stream it writes to:
//   spinner  a terminal of known width: an ora spinner redrawn in place
//   lines    a terminal of unknown or zero width (`script`, `ssh -tt`, some CI runners):
//            plain lines, at most one per LINE_INTERVAL_MS. ora divides by the width and
//            on 0 columns redraws forever (megabytes a second, signals never handled).
//   none     not a terminal, or --json: nothing (logs and pipes stay clean)
import type { ChalkInstance } from 'chalk';
import type { OutStream } from './out-stream.js';

export interface Spinner {
  text(label: string): void;
  succeed(label: string): void;
  fail(label: string): void;
  stop(): void;
}

export type ProgressMode = 'spinner' | 'lines' | 'none';

// Often enough to see a download advance, rarely enough that an hour fills no screen.
export const LINE_INTERVAL_MS = 5_000;

export function progressMode(stream: OutStream, env: Record<string, string | undefined>, json: boolean): ProgressMode {
  if (json || stream.isTTY !== true) return 'none';
  const columns = stream.columns;
  if (columns === undefined || !(columns > 0) || env['TERM'] === 'dumb') return 'lines';
  return 'spinner';
}

export const SILENT_SPINNER: Spinner = { text() {}, succeed() {}, fail() {}, stop() {} };

/** A text with its numbers left out: what stays the same while a count or countdown moves. */
function phase(text: string): string {
  return text.replace(/[\d.,]+/g, '#');
}

/**
 * Progress as whole lines: a new phase at once ("downloading…" after "snapshotting…"),
 * the same phase with new numbers at most every LINE_INTERVAL_MS.
 */
export function lineSpinner(stream: OutStream, c: ChalkInstance, label: string, now: () => number = Date.now): Spinner {
  let shown = label;
  let shownAt = now();
  let pending: string | null = null;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const write = (text: string) => {
    shown = text;
    shownAt = now();
    pending = null;
    stream.write(`${text}\n`);
  };
  const flush = () => {
    timer = undefined;
    if (!stopped && pending !== null) write(pending);
  };
  const finish = (line: string | null) => {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    if (line !== null) stream.write(`${line}\n`);
  };
  write(label);
  return {
    text(next) {
      if (stopped || next === shown) return;
      pending = next;
      const wait = phase(next) === phase(shown) ? shownAt + LINE_INTERVAL_MS - now() : 0;
      if (wait <= 0) write(next);
      else if (timer === undefined) timer = setTimeout(flush, wait).unref();
    },
    succeed: (done) => finish(`${c.green('✔')} ${done}`),
    fail: (done) => finish(`${c.red('✖')} ${done}`),
    stop: () => finish(null),
  };
}
