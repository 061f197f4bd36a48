// Reading a secret: all of stdin (--with-token), or a hidden line typed on a terminal.
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
        if (char === '\u0003' || char === '\u0004') return finish(new CliError('NO_TOKEN', 'cancelled; nothing was stored'));
        if (char === '\u007f' || char === '\b') line = line.slice(0, -1);
        else if (char >= ' ') line += char;
      }
    };
    stdin.on('data', onData);
  });
}
