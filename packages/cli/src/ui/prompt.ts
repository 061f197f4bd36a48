// Reading from the operator: all of stdin (--with-token), a hidden line typed on a
// terminal (a token), or a yes-or-no answer.
import type { Input } from '../context.js';
import { CliError } from '../errors.js';
import type { OutStream } from './out-stream.js';

/** Everything on stdin, trimmed; refuses more than `maxBytes`. */
export async function readAllInput(stdin: Input, maxBytes: number): Promise<string> {
  let text = '';
  for await (const chunk of stdin) {
    text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    if (text.length > maxBytes) throw new CliError('USAGE', `stdin holds more than ${maxBytes} bytes`);
  }
  return text.trim();
}

/** One line typed on the terminal without echo; Ctrl-C (exit 130) or Ctrl-D cancels. */
export async function readHiddenLine(stdin: Input, stderr: OutStream, label: string): Promise<string> {
  const line = await readLine(stdin, stderr, label, false, 'nothing was stored');
  if (line === null) throw new CliError('NO_TOKEN', 'no token was entered; nothing was stored');
  return line;
}

/** A yes-or-no question on the terminal; only y or yes is yes, Ctrl-D is no. Ctrl-C cancels (exit 130). */
export async function confirm(stdin: Input, stderr: OutStream, question: string): Promise<boolean> {
  const answer = await readLine(stdin, stderr, `${question} [y/N] `, true, 'nothing was changed');
  return answer !== null && /^y(es)?$/i.test(answer);
}

/**
 * One line typed on the terminal, or null for Ctrl-D. Raw mode: Ctrl-C arrives as a
 * character, not as SIGINT, so it becomes the CANCELLED a signal would give.
 */
function readLine(stdin: Input, stderr: OutStream, label: string, echo: boolean, nothingDone: string): Promise<string | null> {
  stderr.write(label);
  stdin.setRawMode?.(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let line = '';
    const finish = (outcome: CliError | string | null) => {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      stderr.write('\n');
      if (outcome instanceof CliError) reject(outcome);
      else resolve(outcome);
    };
    const onData = (data: Buffer | string) => {
      for (const char of data.toString()) {
        if (char === '\r' || char === '\n') return finish(line.trim());
        if (char === '\u0003') return finish(new CliError('CANCELLED', `cancelled; ${nothingDone}`));
        if (char === '\u0004') return finish(null);
        if (char === '\u007f' || char === '\b') {
          if (echo && line !== '') stderr.write('\b \b');
          line = line.slice(0, -1);
        } else if (char >= ' ') {
          line += char;
          if (echo) stderr.write(char);
        }
      }
    };
    stdin.on('data', onData);
  });
}
