// Reading from the operator: all of stdin (--with-token), a hidden line typed on a
// terminal (a token), or a yes-or-no answer.
import type { Input } from '../context.js';
import { CliError } from '../errors.js';
import type { OutStream } from './output.js';

/** Everything on stdin, trimmed; refuses more than `maxBytes`. */
export async function readAllInput(stdin: Input, maxBytes: number): Promise<string> {
  let text = '';
  for await (const chunk of stdin) {
    text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    if (text.length > maxBytes) throw new CliError('USAGE', `stdin holds more than ${maxBytes} bytes`);
  }
  return text.trim();
}

/** One line typed on the terminal without echo; Ctrl-C or Ctrl-D cancels. */
export function readHiddenLine(stdin: Input, stderr: OutStream, label: string): Promise<string> {
  return readLine(stdin, stderr, label, false, () => new CliError('NO_TOKEN', 'cancelled; nothing was stored'));
}

/** A yes-or-no question on the terminal; only y or yes is yes. Ctrl-C or Ctrl-D cancels. */
export async function confirm(stdin: Input, stderr: OutStream, question: string): Promise<boolean> {
  const answer = await readLine(stdin, stderr, `${question} [y/N] `, true, () => new CliError('CANCELLED', 'cancelled; nothing was changed'));
  return /^y(es)?$/i.test(answer);
}

/** One line typed on the terminal, in raw mode so Ctrl-C reaches us as a character. */
function readLine(stdin: Input, stderr: OutStream, label: string, echo: boolean, cancelled: () => CliError): Promise<string> {
  stderr.write(label);
  stdin.setRawMode?.(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let line = '';
    const finish = (error: CliError | null) => {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      stderr.write('\n');
      if (error) reject(error);
      else resolve(line.trim());
    };
    const onData = (data: Buffer | string) => {
      for (const char of data.toString()) {
        if (char === '\r' || char === '\n') return finish(null);
        if (char === '\u0003' || char === '\u0004') return finish(cancelled());
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
