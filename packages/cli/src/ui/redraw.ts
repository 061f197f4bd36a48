// A frame redrawn in place on a terminal (leaks --watch): each frame moves the cursor up
// over the rows the previous one took, clears to the end of the screen, and writes
// itself. Only where stdout reports its width (Output.redrawsStdout): rows are counted
// from it, long lines wrapping.

export class InPlaceFrame {
  #rows = 0;
  readonly #columns: () => number;

  constructor(columns: () => number) {
    this.#columns = columns;
  }

  /** What to write for `frame`: the cursor moves that erase the last one, then it. */
  next(frame: string): string {
    const erase = this.#rows > 0 ? `\u001b[${this.#rows}A\u001b[J` : '';
    this.#rows = screenRows(frame, this.#columns());
    return `${erase}${frame}\n`;
  }
}

/** Rows a text takes on a terminal `columns` wide, long lines wrapping (colour codes take none). */
function screenRows(text: string, columns: number): number {
  return text.split('\n').reduce((rows, line) => rows + Math.max(1, Math.ceil(line.replace(/\u001b\[[0-9;]*m/g, '').length / columns)), 0);
}
