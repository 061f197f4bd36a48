// One interactive REPL session on an upgraded socket: node's own REPLServer (history
// keys, tab completion, multi-line input, top-level await) with the application's
// exposed objects, an evaluator that bounds synchronous code, every line audited, and
// what the input leaves running contained (containment.ts): an error it raises later is
// printed in the session as node's REPL prints it ("Uncaught …") and audited, and never
// reaches the process. The process's own stdout and stderr are untouched: `console` in
// the session writes to the session.
//
// Ctrl-C interrupts a line that awaits (node's breakEvalOnSigint, driven by the key, not
// by a signal to the process). Synchronous code cannot be interrupted from outside its
// thread without risking the process; its time limit ends it.
//
// The operator's history lives on the operator's machine: the client sends its earlier
// lines when the session opens, and the session sends back each line it evaluates, both
// inside the stream (protocol/repl.ts, REPL_PRIVATE_OSC). `.save` and `.load` would use the
// application's disk and are refused.
import type { REPLEval, REPLServer, ReplOptions } from 'node:repl';
import type { Duplex } from 'node:stream';
import { types } from 'node:util';
import { replPrivateMessage } from '../protocol/index.js';
import { closeSocket } from '../server/replies.js';
import { createContainment } from './containment.js';
import { ownValue } from './own-value.js';
import { evaluateTimed } from './evaluate.js';
import type { ReplRuntime } from './load.js';
import { PrivateInput } from './private-input.js';
import { safeShow } from './safe-show.js';

/** Lines of the operator's history a session keeps. */
export const HISTORY_LINES = 1000;
/** A value shown in a session is cut here: the session's stream is for reading, not for moving data. */
const MAX_SHOWN_CHARS = 1_000_000;

export type LineOutcome = 'ok' | 'error' | 'timeout' | 'interrupted';

export interface SessionSettings {
  prompt: string;
  terminal: boolean;
  columns: number;
  rows: number;
  context: Record<string, unknown>;
  evalTimeoutMs: number;
  idleTimeoutMs: number;
  /** Called once per evaluated input, after it settles. */
  onEvaluated(line: { code: string; outcome: LineOutcome; durationMs: number }): void;
  /**
   * Called for the code Tab completion evaluates to list properties (`a.b.` + Tab
   * evaluates `a.b`): it runs, so it is audited, but it is not a line the operator entered.
   */
  onCompletionProbe(code: string): void;
  /**
   * Called with an error the session's input raised after its line was answered: a
   * callback it scheduled threw, or a promise it left unhandled rejected. Also after the
   * session has closed, for as long as what it scheduled runs.
   */
  onUncaught(error: unknown, sessionOpen: boolean): void;
  signal: AbortSignal;
}

/**
 * Starts the session on `socket` (the upgraded connection, or a stream to it from the
 * endpoint's thread) with node:repl and node:domain as loadRepl() gave them (loaded only
 * once a session opens).
 */
export function startSession(runtime: ReplRuntime, socket: Duplex & { columns?: number; rows?: number }, settings: SessionSettings): REPLServer {
  const { Recoverable, start } = runtime.repl;
  // readline lays out lines by the output's size: the client's terminal's.
  socket.columns = settings.columns;
  socket.rows = settings.rows;
  // The input being evaluated, until it is answered.
  let pending: { code: string; started: number } | null = null;
  let completing = false;
  let open = true;
  const finishLine = (outcome: LineOutcome) => {
    const line = pending;
    pending = null;
    // Incomplete input is audited once complete, not line by line.
    if (line === null || line.code.trim() === '') return;
    settings.onEvaluated({ code: line.code, outcome, durationMs: Math.round(performance.now() - line.started) });
    if (settings.terminal && socket.writable) socket.write(replPrivateMessage('line', line.code.replace(/\n$/, '')));
  };
  // The error the evaluator last answered a line with: node's REPL prints it by emitting
  // it on the domain, where it must not count again.
  let answered: unknown;
  const containment = createContainment(runtime.domains, (error) => {
    if (answered !== undefined && (error === answered || error === ownValue(answered, 'err'))) {
      answered = undefined;
      return;
    }
    // Node's evaluator reports the failure of input that awaits through the domain, not
    // through its callback: while a line is pending, the error is that line's.
    if (pending !== null) finishLine(outcomeOf(error as Error));
    else settings.onUncaught(error, open);
  });
  const input = new PrivateInput((kind, text) => {
    if (kind === 'history') server.history = parseHistory(text);
  });
  socket.pipe(input);
  // Node's REPL takes the domain (an option it has always read, not in its typings),
  // binds its own evaluator to it and prints the domain's errors in the session.
  const server = start({
    input,
    output: socket,
    prompt: settings.prompt,
    terminal: settings.terminal,
    useColors: settings.terminal,
    preview: false,
    breakEvalOnSigint: true,
    domain: containment.domain,
    // Showing a value runs its code (custom inspect): bounded, and never thrown at the process.
    writer: (value: unknown) => safeShow(server.context, settings.evalTimeoutMs, { colors: settings.terminal, maxChars: MAX_SHOWN_CHARS }).value(value),
  } as ReplOptions) as REPLServer & { history: string[] };
  Object.assign(server.context, settings.context);
  containment.guardMicrotasks(server.context);
  containment.guardFinalization(server.context);
  // Node's printer of the domain's errors reads the error's stack: an error whose getter
  // throws would make the printer throw, and the process end.
  containment.guardOtherListeners((failure) => {
    if (socket.writable) socket.write('Uncaught: an error whose details could not be read\n');
    settings.onUncaught(failure, open);
    if (open) server.displayPrompt();
  });
  for (const command of ['save', 'load']) {
    server.defineCommand(command, {
      help: `Off in opsctl sessions: it would use files on the application's machine`,
      action() {
        this.output.write(`.${command} is off here: it would use files on the application's machine. Your history is kept on yours by opsctl.\n`);
        this.displayPrompt();
      },
    });
  }

  // Tab completion evaluates what comes before the dot; those evaluations are probes.
  const complete = server.completer;
  (server as { completer: typeof complete }).completer = function (this: REPLServer, line: string, callback: (error: Error | null, result?: unknown) => void) {
    completing = true;
    try {
      (complete as (line: string, callback: (error: Error | null, result?: unknown) => void) => void).call(this, line, (error, result) => {
        completing = false;
        callback(error, result);
      });
    } catch (error) {
      completing = false;
      throw error;
    }
  } as typeof complete;

  // Node's evaluator, wrapped: input that compiles as a plain script runs under the time
  // limit; everything runs inside the session's domain.
  const nodeEval = server.eval;
  const timedEval: REPLEval = function (this: REPLServer, code, context, file, callback) {
    if (completing) settings.onCompletionProbe(code);
    else pending = { code, started: performance.now() };
    containment.run(() =>
      evaluateTimed(nodeEval, this, code, context, file, settings.evalTimeoutMs, (error, result) => {
        if (completing) {
          // a probe: not a line
        } else if (!types.isProxy(error) && error instanceof Recoverable) pending = null;
        else finishLine(outcomeOf(error));
        answered = error ?? undefined;
        try {
          callback(error, result);
        } catch (failure) {
          // Node's REPL showing the answer threw: the session says so and goes on.
          if (socket.writable) socket.write('Uncaught: the answer could not be shown\n');
          settings.onUncaught(failure, open);
          if (open) server.displayPrompt();
        } finally {
          answered = undefined;
        }
      }),
    );
  };
  (server as { eval: REPLEval }).eval = timedEval;

  const end = (message: string) => {
    if (socket.writable) socket.write(`\r\n${message}\r\n`);
    server.close();
  };
  server.on('exit', () => closeSocket(socket));
  server.on('close', () => {
    open = false;
    // Node's printer would prompt on a closed readline, which throws; errors from what the
    // session left running are audited only from now on.
    containment.onlyOwnListener();
  });
  socket.on('close', () => server.close());
  // Idle means nothing typed: a session left open must not hold code execution open.
  const idle = setTimeout(() => end(`(idle for ${Math.round(settings.idleTimeoutMs / 60_000)} min; session closed)`), settings.idleTimeoutMs);
  idle.unref();
  socket.on('data', () => idle.refresh());
  socket.once('close', () => clearTimeout(idle));
  if (settings.signal.aborted) end('(the endpoint is closing; session closed)');
  else settings.signal.addEventListener('abort', () => end('(the endpoint is closing; session closed)'), { once: true });
  return server;
}

function outcomeOf(error: Error | null): LineOutcome {
  const code = ownValue(error, 'code');
  if (code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return 'timeout';
  if (code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED') return 'interrupted';
  return error ? 'error' : 'ok';
}

/** The client's history message: lines newest first; anything else gives none. */
function parseHistory(text: string): string[] {
  try {
    const lines: unknown = JSON.parse(text);
    if (!Array.isArray(lines)) return [];
    return lines.filter((line): line is string => typeof line === 'string' && line.length <= 10_000).slice(0, HISTORY_LINES);
  } catch {
    return [];
  }
}
