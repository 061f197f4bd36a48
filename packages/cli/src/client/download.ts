// Saving a JSON document the endpoint sends (a profile, a diagnostic report): streamed
// into a temp file beside the destination, parsed and checked, and only then given its
// name, so an interrupted or truncated download never leaves a file under that name.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CliError } from '../errors.js';
import { AtomicFile, safeName, type Destination } from '../files.js';

export interface SavedJson {
  path: string;
  bytes: number;
  document: Record<string, unknown>;
}

export interface SaveJsonOptions {
  /** A directory, and the file name in it; null when the name comes from the document. */
  destination: Destination;
  force: boolean;
  /** What the document is, for messages: "the CPU profile". */
  what: string;
  /** A sentence naming what is missing, or null when the document is whole. */
  check(document: Record<string, unknown>): string | null;
  /** The file name when the destination is a directory. */
  name(document: Record<string, unknown>): string;
  signal: AbortSignal;
}

/** Writes `body` to the destination once it parses as JSON and passes `check`. */
export async function saveJson(body: NodeJS.ReadableStream, options: SaveJsonOptions): Promise<SavedJson> {
  const { destination, what } = options;
  const file = await AtomicFile.create(destination.dir);
  try {
    try {
      await pipeline(body, file.stream(), { signal: options.signal });
    } catch (error) {
      if (options.signal.aborted) throw new CliError('CANCELLED', 'cancelled; no file was written', { cause: error });
      throw new CliError('INCOMPLETE_DOWNLOAD', `the download of ${what} ended early; no file was written`, { hint: 'the process may have exited or restarted; run: opsctl status', cause: error });
    }
    let document: Record<string, unknown>;
    try {
      document = JSON.parse(await readFile(file.tempPath, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new CliError('INCOMPLETE_DOWNLOAD', `${what} is not complete JSON; no file was written`, { hint: 'try again; if it persists, run: opsctl status', cause: error });
    }
    const problem = document !== null && typeof document === 'object' ? options.check(document) : 'it is not a JSON object';
    if (problem !== null) throw new CliError('BAD_RESPONSE', `${what} is not in the expected format: ${problem}; no file was written`, { hint: 'is the endpoint an opsctl endpoint of a matching version? run: opsctl status' });
    const path = destination.file === null ? join(destination.dir, safeName(options.name(document))) : join(destination.dir, destination.file);
    await file.commit(path, options.force);
    return { path, bytes: (await stat(path)).size, document };
  } catch (error) {
    await file.discard();
    throw error;
  }
}
