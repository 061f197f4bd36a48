#!/usr/bin/env node

// The first Ctrl-C asks the command to stop (and restore the terminal); a second one
// leaves at once.
const interrupt = new AbortController();
process.on('SIGINT', () => {
  if (interrupt.signal.aborted) process.exit(130);
  interrupt.abort();
});

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
    signal: interrupt.signal,
  });
}
