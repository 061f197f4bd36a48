// REPL sessions (an HTTP Upgrade carrying a terminal stream) and one-shot evaluation
// (POST /eval): the upgrade's names, the private messages inside the stream, the answers.
/**
 * REPL sessions carry messages for the client program itself inside the terminal stream,
 * as an OSC string no terminal acts on: ESC ] 7777 ; <kind> ; <base64 of UTF-8> BEL.
 *   history  client → session: the operator's earlier lines, JSON array, newest first
 *   line     session → client: a line the session evaluated, to keep in that history
 */
export const REPL_PRIVATE_OSC = '7777';
export type ReplPrivateKind = 'history' | 'line';

/** The private message `kind` with `text`, as it travels in the stream. */
export function replPrivateMessage(kind: ReplPrivateKind, text: string): string {
  return `\u001b]${REPL_PRIVATE_OSC};${kind};${Buffer.from(text, 'utf8').toString('base64')}\u0007`;
}

/** Sent by the REPL client when it upgrades: `tty=1; cols=120; rows=40`. */
export const TERMINAL_HEADER = 'opsctl-terminal';
/** The Upgrade protocol token of REPL sessions. */
export const REPL_PROTOCOL = 'opsctl-repl';

export interface ReplStatus {
  sessions: number;
  maxSessions: number;
  evalTimeoutMs: number;
  idleTimeoutMs: number;
  prompt: string;
}

export interface EvalRequest {
  code: string;
  /** Limit for the synchronous part, and for awaiting a returned promise; at most the endpoint's maximum. */
  timeoutMs?: number;
}

/** An error raised by evaluated code. */
export interface EvalError {
  name: string;
  message: string;
  stack: string | null;
}

/**
 * The answer of POST /eval. `uncaught` lists errors the input raised on its own after it
 * was evaluated (a promise it left unhandled rejected, a callback it scheduled threw)
 * before the answer was sent; they were contained and reached nothing else.
 */
export type EvalResponse = (
  | { ok: true; result: string; type: string; output: string; durationMs: number }
  | { ok: false; error: EvalError; timedOut: boolean; output: string; durationMs: number }
) & { uncaught?: EvalError[] };
