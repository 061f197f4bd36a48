// Why a heap snapshot file cannot be read. Callers match `code`, never wording: the
// codes are permanent, the messages may improve. The message says what is wrong in one
// sentence; the next step depends on the caller (download again, take a new snapshot),
// so commands add it.

const HEAPSNAPSHOT_ERROR_CODES = [
  /** It does not start like a V8 heap snapshot: other JSON, binary data, another format. */
  'NOT_A_HEAPSNAPSHOT',
  /** It starts like one but ends early: an interrupted download or write, a cut gzip stream, an empty file. */
  'HEAPSNAPSHOT_TRUNCATED',
  /** It is complete but inconsistent: bad JSON, counts that disagree with the header, corrupt gzip data. */
  'HEAPSNAPSHOT_MALFORMED',
] as const;
export type HeapSnapshotErrorCode = (typeof HEAPSNAPSHOT_ERROR_CODES)[number];

export class HeapSnapshotError extends Error {
  readonly code: HeapSnapshotErrorCode;
  /** Byte offset in the (decompressed) JSON text where the problem showed, when known. */
  readonly offset: number | null;

  constructor(code: HeapSnapshotErrorCode, message: string, offset: number | null = null, options?: ErrorOptions) {
    super(message, options);
    this.name = 'HeapSnapshotError';
    this.code = code;
    this.offset = offset;
  }
}

export function isHeapSnapshotError(error: unknown): error is HeapSnapshotError {
  return error instanceof Error && (HEAPSNAPSHOT_ERROR_CODES as readonly unknown[]).includes((error as { code?: unknown }).code);
}

/** HEAPSNAPSHOT_MALFORMED, located at byte `at` of the JSON text. */
export function malformed(what: string, at: number): HeapSnapshotError {
  return new HeapSnapshotError('HEAPSNAPSHOT_MALFORMED', `the heap snapshot is malformed: ${what} (byte ${at})`, at);
}
