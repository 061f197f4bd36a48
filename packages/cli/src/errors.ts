// The CLI's typed errors. Every failure a user can meet is a CliError with a stable
// code, one sentence, and a hint naming the next step; main.ts maps codes to exit codes.
import type { ErrorCode as EndpointErrorCode } from './endpoint/protocol.js';

export type CliErrorCode =
  | 'USAGE'
  | 'CANCELLED'
  | 'DECLINED'
  | 'NO_TARGET'
  | 'NO_TOKEN'
  | 'BAD_TOKEN'
  | 'INSECURE_URL'
  | 'UNKNOWN_CONTEXT'
  | 'CONFIG_CORRUPT'
  | 'CONFIG_UNWRITABLE'
  | 'KEYCHAIN_UNAVAILABLE'
  | 'CREDENTIALS_FILE_UNSAFE'
  | 'UNREACHABLE'
  | 'CONNECTION_LOST'
  | 'TIMEOUT'
  | 'TLS_FAILED'
  | 'BAD_RESPONSE'
  | 'FILE_EXISTS'
  | 'FILE_UNWRITABLE'
  | 'INCOMPLETE_DOWNLOAD'
  | 'CHECKSUM_MISMATCH'
  | 'BAD_SNAPSHOT'
  | 'LEAK_SUSPECTED'
  | 'LEAK_VERDICT_UNKNOWN'
  | 'DIFFERENT_PROCESSES'
  | 'EVAL_THREW'
  | 'CHECK_FAILED'
  | 'NO_INSTANCES'
  | 'PROMETHEUS_FAILED'
  | 'UNEXPECTED'
  | `ENDPOINT_${EndpointErrorCode}`;

export class CliError extends Error {
  readonly code: CliErrorCode;
  readonly hint: string | undefined;
  /** The HTTP status, when the endpoint refused. */
  readonly status: number | undefined;
  /** When the endpoint said to the millisecond when to try again (a heap snapshot's pacing: details.retryInMs). */
  readonly retryInMs: number | undefined;

  constructor(code: CliErrorCode, message: string, options: { hint?: string; status?: number; retryInMs?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.code = code;
    this.hint = options.hint;
    this.status = options.status;
    this.retryInMs = options.retryInMs;
  }
}

export function isCliError(error: unknown): error is CliError {
  return error instanceof Error && typeof (error as CliError).code === 'string' && error.name === 'CliError';
}

/** Exit codes: documented in docs/operations.md#exit-codes and never renumbered. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  auth: 3,
  unreachable: 4,
  leakSuspected: 5,
  /** 128 + SIGINT, as shells report a command stopped by Ctrl-C. */
  cancelled: 130,
  /** 128 + SIGTERM, as shells report a command told to stop (kill, a CI runner's timeout). */
  terminated: 143,
} as const;

/** The exit code of a command stopped by `reason` (an AbortSignal's reason): 143 for SIGTERM, else 130. */
export function exitCodeForStop(reason: unknown): number {
  return reason === 'SIGTERM' ? EXIT.terminated : EXIT.cancelled;
}

export function exitCodeFor(code: CliErrorCode): number {
  switch (code) {
    case 'USAGE':
    case 'NO_TARGET':
    case 'INSECURE_URL':
    case 'UNKNOWN_CONTEXT':
    case 'FILE_EXISTS':
    case 'ENDPOINT_BAD_PARAM':
    case 'ENDPOINT_UNKNOWN_ACTION':
    case 'ENDPOINT_UNKNOWN_SNAPSHOT':
    case 'ENDPOINT_UNKNOWN_WORKER':
      return EXIT.usage;
    case 'NO_TOKEN':
    case 'BAD_TOKEN':
    case 'ENDPOINT_AUTH_REQUIRED':
    case 'ENDPOINT_AUTH_INVALID':
    case 'ENDPOINT_AUTH_MALFORMED':
    case 'ENDPOINT_SCOPE_MISSING':
    case 'ENDPOINT_THROTTLED':
      return EXIT.auth;
    case 'UNREACHABLE':
    case 'CONNECTION_LOST':
    case 'TIMEOUT':
    case 'TLS_FAILED':
      return EXIT.unreachable;
    case 'LEAK_SUSPECTED':
      return EXIT.leakSuspected;
    case 'CANCELLED':
      return EXIT.cancelled;
    default:
      return EXIT.failure;
  }
}
