// One interactive REPL session on an upgraded socket: node's own REPLServer (history
// keys, tab completion, multi-line input, top-level await) with the application's
// exposed objects, an evaluator that bounds synchronous code, every line audited, and
// what the input leaves running contained (containment.ts): an error it raises later is
// printed in the session as node's REPL prints it ("Uncaught …") and audited, and never
// reaches the process. The process's own stdout and stderr are untouched: `console` in
// the session writes to the session.
import type { REPLEval, REPLServer, ReplOptions } from 'node:repl';
import type { Duplex } from 'node:stream';
import { closeSocket } from '../server/replies.js';
import { createContainment } from './containment.js';
import { evaluateTimed } from './evaluate.js';
import type { ReplRuntime } from './load.js';

export interface SessionSettings {
  prompt: string;
  terminal: boolean;
  columns: number;
  rows: number;
  context: Record<string, unknown>;
  evalTimeoutMs: number;
  idleTimeoutMs: number;
  /** Called once per evaluated input, after it settles. */
  onEvaluated(line: { code: string; outcome: 'ok' | 'error' | 'timeout'; durationMs: number }): void;
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
  let open = true;
  const finishLine = (outcome: 'ok' | 'error' | 'timeout') => {
    const line = pending;
    pending = null;
    // Incomplete input is audited once complete, not line by line.
    if (line !== null && line.code.trim() !== '') settings.onEvaluated({ code: line.code, outcome, durationMs: Math.round(performance.now() - line.started) });
  };
  // The error the evaluator last answered a line with: node's REPL prints it by emitting
  // it on the domain, where it must not count again.
  let answered: unknown;
  const containment = createContainment(runtime.domains, (error) => {
    if (answered !== undefined && (error === answered || error === (answered as { err?: unknown }).err)) {
      answered = undefined;
      return;
    }
    // Node's evaluator reports the failure of input that awaits through the domain, not
    // through its callback: while a line is pending, the error is that line's.
    if (pending !== null) finishLine('error');
    else settings.onUncaught(error, open);
  });
  // Node's REPL takes the domain (an option it has always read, not in its typings),
  // binds its own evaluator to it and prints the domain's errors in the session.
  const server = start({
    input: socket,
    output: socket,
    prompt: settings.prompt,
    terminal: settings.terminal,
    useColors: settings.terminal,
    preview: false,
    breakEvalOnSigint: false,
    domain: containment.domain,
  } as ReplOptions);
  Object.assign(server.context, settings.context);
  containment.guardMicrotasks(server.context);

  // Node's evaluator, wrapped: input that compiles as a plain script runs under the time
  // limit; everything runs inside the session's domain.
  const nodeEval = server.eval;
  const timedEval: REPLEval = function (this: REPLServer, code, context, file, callback) {
    pending = { code, started: performance.now() };
    containment.run(() =>
      evaluateTimed(nodeEval, this, code, context, file, settings.evalTimeoutMs, (error, result) => {
        if (error instanceof Recoverable) pending = null;
        else finishLine((error as NodeJS.ErrnoException | null)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT' ? 'timeout' : error ? 'error' : 'ok');
        answered = error ?? undefined;
        try {
          callback(error, result);
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
