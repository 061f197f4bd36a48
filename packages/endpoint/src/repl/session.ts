// One interactive REPL session on an upgraded socket: node's own REPLServer (history
// keys, tab completion, multi-line input, top-level await) with the application's
// exposed objects, an evaluator that bounds synchronous code, and every line audited.
// The process's own stdout and stderr are untouched: `console` in the session writes
// to the session.
import type { Socket } from 'node:net';
import type { REPLEval, REPLServer } from 'node:repl';
import { evaluateTimed } from './evaluate.js';
import type { ReplModule } from './load.js';

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
  signal: AbortSignal;
}

/** Starts the session with `repl`, node:repl as loadRepl() gave it (loaded only once a session opens). */
export function startSession(repl: ReplModule, socket: Socket & { columns?: number; rows?: number }, settings: SessionSettings): REPLServer {
  const { Recoverable, start } = repl;
  // readline lays out lines by the output's size: the client's terminal's.
  socket.columns = settings.columns;
  socket.rows = settings.rows;
  const server = start({
    input: socket,
    output: socket,
    prompt: settings.prompt,
    terminal: settings.terminal,
    useColors: settings.terminal,
    preview: false,
    breakEvalOnSigint: false,
  });
  Object.assign(server.context, settings.context);

  // Node's evaluator, wrapped: input that compiles as a plain script runs under the time limit.
  const nodeEval = server.eval;
  const timedEval: REPLEval = function (this: REPLServer, code, context, file, callback) {
    const started = performance.now();
    evaluateTimed(nodeEval, this, code, context, file, settings.evalTimeoutMs, (error, result) => {
      // Incomplete input is audited once complete, not line by line.
      if (code.trim() !== '' && !(error instanceof Recoverable)) {
        const timedOut = (error as NodeJS.ErrnoException | null)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
        settings.onEvaluated({ code, outcome: timedOut ? 'timeout' : error ? 'error' : 'ok', durationMs: Math.round(performance.now() - started) });
      }
      callback(error, result);
    });
  };
  (server as { eval: REPLEval }).eval = timedEval;

  const end = (message: string) => {
    if (socket.writable) socket.write(`\r\n${message}\r\n`);
    server.close();
  };
  server.on('exit', () => socket.end());
  socket.on('close', () => server.close());
  socket.setTimeout(settings.idleTimeoutMs);
  socket.on('timeout', () => end(`(idle for ${Math.round(settings.idleTimeoutMs / 60_000)} min; session closed)`));
  if (settings.signal.aborted) end('(the endpoint is closing; session closed)');
  else settings.signal.addEventListener('abort', () => end('(the endpoint is closing; session closed)'), { once: true });
  return server;
}
