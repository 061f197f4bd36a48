// Saving a JSON document the endpoint sends (a profile, a diagnostic report): streamed
// into a temp file beside the destination, parsed and checked, and only then given its
// name, so an interrupted or truncated download never leaves a file under that name.
// And what to say when a download breaks off: the operator stopped it, the local disk
// failed (full, read-only), or the connection to the process was lost.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CliError, isCliError } from '../errors.js';
import { AtomicFile, fileError, isFileSystemError, safeName, type Destination } from '../files.js';
import type { Client } from './http.js';

export interface TransferFacts {
  client: Client;
  signal: AbortSignal;
  /** The local file or directory being written, for a disk error. */
  where: string;
  /** What becomes of the download, appended to every message: "; no file was written". */
  outcome: string;
  /** How far it got, for a lost connection: " after 3.2 MB". */
  progress?: string;
}

/** Why a download's pipeline failed, as the CliError to show. */
export function transferFailure(error: unknown, facts: TransferFacts): CliError {
  if (facts.signal.aborted) return new CliError('CANCELLED', `cancelled${facts.outcome}`, { cause: error });
  if (isFileSystemError(error)) {
    const failure = fileError(error, facts.where);
    return new CliError(failure.code, `${failure.message}${facts.outcome}`, {
      hint: 'make room or choose another --out, then run the command again',
      cause: error,
    });
  }
  if (typeof (error as NodeJS.ErrnoException | null)?.code === 'string' && (error as NodeJS.ErrnoException).code!.startsWith('Z_')) {
    return new CliError('BAD_RESPONSE', `the endpoint sent a broken gzip stream${facts.outcome}`, { hint: 'run the command again', cause: error });
  }
  const explained = isCliError(error) ? error : facts.client.explain(error);
  if (explained.code === 'CONNECTION_LOST') return facts.client.connectionLost(error, { progress: facts.progress ?? '', outcome: facts.outcome });
  return new CliError(explained.code, `${explained.message}${facts.outcome}`, {
    ...(explained.hint === undefined ? {} : { hint: explained.hint }),
    cause: error,
  });
}

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
  client: Client;
  /** Tells the operator about temp files swept before the download. */
  notice(text: string): void;
}

/** Writes `body` to the destination once it parses as JSON and passes `check`. */
export async function saveJson(body: NodeJS.ReadableStream, options: SaveJsonOptions): Promise<SavedJson> {
  const { destination, what } = options;
  const file = await AtomicFile.create(destination.dir, options.notice);
  try {
    try {
      await pipeline(body, file.stream(), { signal: options.signal });
    } catch (error) {
      throw transferFailure(error, {
        client: options.client,
        signal: options.signal,
        where: destination.dir,
        outcome: '; no file was written',
        progress: ` while receiving ${what}`,
      });
    }
    let document: Record<string, unknown>;
    try {
      document = JSON.parse(await readFile(file.tempPath, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new CliError('INCOMPLETE_DOWNLOAD', `${what} is not complete JSON; no file was written`, {
        hint: 'try again; if it persists, run: opsctl status',
        cause: error,
      });
    }
    const problem = document !== null && typeof document === 'object' ? options.check(document) : 'it is not a JSON object';
    if (problem !== null)
      throw new CliError('BAD_RESPONSE', `${what} is not in the expected format: ${problem}; no file was written`, {
        hint: 'is the endpoint an opsctl endpoint of a matching version? run: opsctl status',
      });
    const path = destination.file === null ? join(destination.dir, safeName(options.name(document))) : join(destination.dir, destination.file);
    if (options.signal.aborted) throw new CliError('CANCELLED', 'cancelled; no file was written');
    await file.commit(path, options.force);
    return { path, bytes: (await stat(path)).size, document };
  } catch (error) {
    await file.discard();
    throw error;
  }
}
