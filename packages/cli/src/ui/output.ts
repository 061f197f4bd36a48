// Output: the one place that decides what goes where. Data to stdout (human text, or
// one JSON document with --json), everything else to stderr; colour per stream;
// progress only when stderr is a terminal and never with --json (ui/progress.ts).
// Errors never echo a token (ui/mask.ts) nor a terminal control character.
import { Chalk, type ChalkInstance } from 'chalk';
import type { CliError } from '../errors.js';
import { colourLevel } from './colour.js';
import { maskTokens } from './mask.js';
import type { OutStream } from './out-stream.js';
import { lineSpinner, progressMode, SILENT_SPINNER, type Spinner } from './progress.js';
import { escapeJsonControls, printable } from './sanitize.js';

export interface OutputOptions {
  stdout: OutStream;
  stderr: OutStream;
  env: Record<string, string | undefined>;
  json: boolean;
  noColor: boolean;
  verbose: boolean;
}

export type { Spinner } from './progress.js';

const NOWHERE: OutStream = { write: () => true };

export class Output {
  readonly json: boolean;
  #resultWritten = false;
  readonly verbose: boolean;
  /** Colours for stdout and for stderr, each from its own stream's TTY-ness. */
  readonly c: ChalkInstance;
  readonly ce: ChalkInstance;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  readonly #stdout: OutStream;
  readonly #stderr: OutStream;
  readonly #env: Record<string, string | undefined>;

  constructor(options: OutputOptions) {
    this.json = options.json;
    this.verbose = options.verbose;
    this.#stdout = options.stdout;
    this.#stderr = options.stderr;
    this.#env = options.env;
    this.stdoutIsTTY = options.stdout.isTTY === true;
    this.stderrIsTTY = options.stderr.isTTY === true;
    const base = { env: options.env, noColorFlag: options.noColor };
    this.c = new Chalk({ level: colourLevel({ ...base, isTTY: this.stdoutIsTTY, machine: options.json }) });
    this.ce = new Chalk({ level: colourLevel({ ...base, isTTY: this.stderrIsTTY, machine: false }) });
  }

  /** The command's result: one JSON document with --json, else the rendered text. */
  result<T>(data: T, render: (data: T, c: ChalkInstance) => string): void {
    this.#resultWritten = true;
    if (this.json) this.#stdout.write(`${escapeJsonControls(JSON.stringify(data, null, 2))}\n`);
    else {
      const text = render(data, this.c);
      if (text !== '') this.#stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    }
  }

  /** A line of streamed data on stdout (NDJSON records, watch frames). */
  data(text: string): void {
    this.#stdout.write(text);
  }

  /** Text on stderr as is: prompts, and redrawing a line in place. */
  raw(text: string): void {
    this.#stderr.write(text);
  }

  info(text: string): void {
    this.#stderr.write(`${text}\n`);
  }

  warn(text: string): void {
    this.#stderr.write(`${this.ce.yellow('warning:')} ${text}\n`);
  }

  /**
   * A failure: a sentence and a hint on stderr; with --json also, on stdout, one line
   * `{"error":{"code","message","hint"}}` for a script to read, unless the command's
   * result went there already (a failed check's report says it all).
   */
  error(error: CliError): void {
    if (this.json && !this.#resultWritten) {
      this.#stdout.write(
        `${escapeJsonControls(JSON.stringify({ error: { code: error.code, message: maskTokens(error.message), hint: error.hint === undefined ? null : maskTokens(error.hint) } }))}\n`,
      );
    }
    this.#stderr.write(`${this.ce.red('error:')} ${printable(maskTokens(error.message))}\n`);
    if (error.hint) this.#stderr.write(`${this.ce.dim('hint:')} ${printable(maskTokens(error.hint))}\n`);
  }

  /** Writes a stack trace and causes, for --verbose. */
  debug(text: string): void {
    if (this.verbose) this.#stderr.write(`${this.ce.dim(text)}\n`);
  }

  /** Progress on stderr: an ora spinner on a terminal of known width, plain lines on one of unknown width, else nothing. */
  async spinner(label: string): Promise<Spinner> {
    const mode = progressMode(this.#stderr, this.#env, this.json);
    if (mode === 'none') return SILENT_SPINNER;
    if (mode === 'lines') return lineSpinner(this.#stderr, this.ce, label);
    const { default: ora } = await import('ora');
    // discardStdin: false, or ora swallows what the user types (REPL, --with-token).
    // ora's own symbols and colours ignore NO_COLOR: give it ours.
    const coloured = this.ce.level > 0;
    const spinner = ora({
      text: label,
      stream: this.#stderr as NodeJS.WritableStream,
      discardStdin: false,
      isEnabled: true,
      color: coloured ? 'cyan' : false,
    }).start();
    return {
      text: (next) => void (spinner.text = next),
      succeed: (done) => void spinner.stopAndPersist({ symbol: this.ce.green('✔'), text: done }),
      fail: (done) => void spinner.stopAndPersist({ symbol: this.ce.red('✖'), text: done }),
      stop: () => void spinner.stop(),
    };
  }

  /** An Output that prints nothing: for a command run inside another (check's heapdump). */
  silent(): Output {
    return new Output({ stdout: NOWHERE, stderr: NOWHERE, env: {}, json: false, noColor: true, verbose: false });
  }

  /**
   * Whether stdout may be redrawn in place (cursor moves): a terminal that reports its
   * width and is not `TERM=dumb`. A pty of 0 columns gets plain lines instead.
   */
  get redrawsStdout(): boolean {
    return progressMode(this.#stdout, this.#env, this.json) === 'spinner';
  }

  /** Terminal width for layouts, 80 when unknown (a pty may report 0). */
  get columns(): number {
    const columns = this.#stdout.columns;
    return columns !== undefined && columns > 0 ? columns : 80;
  }

  /** Terminal height, 24 when unknown. */
  get rows(): number {
    const rows = this.#stdout.rows;
    return rows !== undefined && rows > 0 ? rows : 24;
  }
}
