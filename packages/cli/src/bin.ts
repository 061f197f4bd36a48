#!/usr/bin/env node
import { enableCompileCache } from './compile-cache.js';

// Before anything else is loaded: what is loaded from here on can come from the cache.
enableCompileCache(process.env);

// Ctrl-C (SIGINT) and SIGTERM ask the command to stop: requests are cancelled, partial
// files removed, the terminal restored, and the exit code is 130 or 143 as shells expect.
// A second signal, or a command still running STOP_GRACE_MS later, leaves at once: a
// stop request must always end opsctl (a stale temp file is swept by the next download).
const STOP_GRACE_MS = 3_000;
const EXIT_FOR = { SIGINT: 130, SIGTERM: 143 } as const;
const interrupt = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupt.signal.aborted) process.exit(EXIT_FOR[signal]);
    interrupt.abort(signal);
    setTimeout(() => process.exit(EXIT_FOR[signal]), STOP_GRACE_MS).unref();
  });
}

// `opsctl … | head` closes the pipe early: that is the reader's choice, not a crash.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // The one answer scripts ask for in a loop: without loading commander.
  const { version } = await import('./version.js');
  process.stdout.write(`${version}\n`);
} else {
  const { main } = await import('./main.js');
  process.exitCode = await main(args, {
    streams: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
    env: process.env,
    cwd: process.cwd(),
    signal: interrupt.signal,
  });
}
