// The operator's REPL history, kept on the operator's machine per target (context name,
// else host:port), like node's ~/.node_repl_history: one JSON string per line, oldest
// first, mode 0600 (what was typed may hold secrets). The session is sent the newest
// lines when it opens and sends back each line it evaluates (the endpoint's
// REPL_PRIVATE_OSC messages).
import { appendFileSync, chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Lines kept: more are trimmed, oldest first, when the file is next read. */
const HISTORY_LINES = 1000;

export class ReplHistory {
  readonly path: string;

  constructor(configDir: string, target: string) {
    this.path = join(configDir, 'repl-history', target.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100));
  }

  /** The kept lines, newest first, as the session's readline wants them. Nothing when there are none or they cannot be read. */
  load(): string[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return [];
    }
    const lines = text.split('\n').flatMap((line) => {
      try {
        const value: unknown = JSON.parse(line);
        return typeof value === 'string' ? [value] : [];
      } catch {
        return [];
      }
    });
    if (lines.length > HISTORY_LINES * 2) this.#write(lines.slice(-HISTORY_LINES));
    return lines.slice(-HISTORY_LINES).reverse();
  }

  /** Keeps one more line. A history that cannot be written is not worth failing a session for. */
  add(line: string): void {
    if (line.trim() === '') return;
    try {
      mkdirSync(join(this.path, '..'), { recursive: true, mode: 0o700 });
      appendFileSync(this.path, `${JSON.stringify(line)}\n`, { mode: 0o600 });
      chmodSync(this.path, 0o600);
    } catch {
      // read-only home, full disk: the session goes on without history
    }
  }

  #write(lines: string[]): void {
    try {
      writeFileSync(this.path, lines.map((line) => `${JSON.stringify(line)}\n`).join(''), { mode: 0o600 });
    } catch {
      // as above
    }
  }
}
