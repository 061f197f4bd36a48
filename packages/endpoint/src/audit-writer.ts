// The default audit sink's way to stderr. Lines written within one turn of the event
// loop go out in one write: under a flood of refusals, one system call per turn instead
// of one per request. Written to file descriptor 2 directly rather than through
// process.stderr: a closed stderr pipe then fails this write quietly instead of emitting
// an 'error' the application never asked to handle. A pipe that is full (EAGAIN) or takes
// part of a write is written again later, the unwritten part first; while it takes
// nothing, up to maxQueuedBytes wait, and past that new lines are dropped and counted,
// and a line saying how many goes out when stderr takes lines again, at a line boundary.

/** fs.write's shape: writes `chunk`, calls back with how many bytes were taken, or an error. */
export type ChunkWrite = (chunk: Buffer, done: (error: NodeJS.ErrnoException | null, written: number) => void) => void;

export interface LineQueueOptions {
  write: ChunkWrite;
  maxQueuedBytes: number;
  /** The line that says `lines` were dropped. */
  droppedNotice: (lines: number) => string;
  /** Called once per failure other than a full pipe: those lines are lost. */
  onError: (error: NodeJS.ErrnoException) => void;
  /** Schedules the next attempt after a full pipe. */
  retryLater: (drain: () => void) => void;
}

export class LineQueue {
  readonly #options: LineQueueOptions;
  readonly #queue: Buffer[] = [];
  #queuedBytes = 0;
  /** What a short or refused write left: it goes out first, as it is (it may end a line the pipe took half of). */
  #unfinished: Buffer | null = null;
  #writing = false;
  #droppedLines = 0;

  constructor(options: LineQueueOptions) {
    this.#options = options;
  }

  /** Queues whole lines (each ending in a newline) and starts writing them. */
  push(lines: string): void {
    if (lines === '') return;
    const bytes = Buffer.from(lines);
    if (this.#queuedBytes + bytes.length > this.#options.maxQueuedBytes) {
      this.#droppedLines += countLines(bytes);
      return;
    }
    this.#queue.push(bytes);
    this.#queuedBytes += bytes.length;
    this.#drain();
  }

  /** Everything not yet written, in order, and forgets it: for a synchronous write at exit. */
  takeAll(): Buffer {
    const all = Buffer.concat([...(this.#unfinished === null ? [] : [this.#unfinished]), ...this.#queue]);
    this.#unfinished = null;
    this.#queue.length = 0;
    this.#queuedBytes = 0;
    return all;
  }

  #drain(): void {
    if (this.#writing || (this.#queue.length === 0 && this.#unfinished === null)) return;
    // The notice goes after the unfinished part, which ends a line: never inside one.
    const parts = this.#unfinished === null ? [] : [this.#unfinished];
    if (this.#droppedLines > 0) {
      parts.push(Buffer.from(this.#options.droppedNotice(this.#droppedLines)));
      this.#droppedLines = 0;
    }
    parts.push(...this.#queue);
    const chunk = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    this.#unfinished = null;
    this.#queue.length = 0;
    this.#queuedBytes = 0;
    this.#writing = true;
    this.#options.write(chunk, (error, written) => {
      this.#writing = false;
      const rest = error ? (error.code === 'EAGAIN' ? chunk : null) : chunk.subarray(written);
      if (error && rest === null) this.#options.onError(error);
      if (rest !== null && rest.length > 0) {
        this.#unfinished = rest;
        this.#queuedBytes += rest.length;
      }
      if (error) this.#options.retryLater(() => this.#drain());
      else this.#drain();
    });
  }
}

function countLines(bytes: Buffer): number {
  let lines = 0;
  for (let at = bytes.indexOf(10); at !== -1; at = bytes.indexOf(10, at + 1)) lines++;
  return lines;
}
