// Error codes with their statuses and default messages, and the error body every refusal
// carries. Codes are permanent; messages may improve. Clients match `code`, never wording.

export const ERRORS = {
  BAD_REQUEST: { status: 400, message: 'The request is not valid HTTP.' },
  BAD_PARAM: { status: 400, message: 'A parameter is not valid.' },
  AUTH_MALFORMED: { status: 400, message: 'The Authorization header is malformed; send exactly one "Authorization: Bearer <token>".' },
  AUTH_REQUIRED: { status: 401, message: 'A bearer token is required.' },
  AUTH_INVALID: { status: 401, message: 'The bearer token is not valid.' },
  SCOPE_MISSING: { status: 403, message: 'The token lacks the scope this route requires.' },
  NOT_FOUND: { status: 404, message: 'No such route.' },
  UNKNOWN_ACTION: { status: 404, message: 'The application has no action by that name.' },
  UNKNOWN_SNAPSHOT: { status: 404, message: 'No captured heap snapshot has that id.' },
  UNKNOWN_WORKER: { status: 404, message: 'No registered worker thread has that name.' },
  FEATURE_DISABLED: { status: 404, message: 'This feature is not enabled in the application.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'The method is not allowed on this route.' },
  REQUEST_TIMEOUT: { status: 408, message: 'The request did not arrive in time.' },
  BODY_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  RANGE_NOT_SATISFIABLE: { status: 416, message: 'The requested byte range lies outside the file.' },
  EXPECTATION_FAILED: { status: 417, message: 'The endpoint meets no Expect header but "100-continue".' },
  HEADERS_TOO_LARGE: { status: 431, message: 'The request headers are too large.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The request body must be JSON.' },
  BAD_BODY: { status: 400, message: 'The request body is not valid JSON.' },
  // The request was valid and the action ran, but the application's code threw: its own
  // failure, not the endpoint's (500) and not a success (200), so scripts see it fail.
  ACTION_FAILED: { status: 422, message: 'The action failed.' },
  THROTTLED: { status: 429, message: 'Too many failed authentication attempts from this address.' },
  BUSY: { status: 429, message: 'The same operation is already running.' },
  LOW_MEMORY: { status: 503, message: 'Not enough memory headroom for this operation.' },
  LOW_DISK: { status: 507, message: 'Not enough free disk space for this operation.' },
  SHUTTING_DOWN: { status: 503, message: 'The endpoint is shutting down.' },
  MAIN_THREAD_BLOCKED: { status: 503, message: "The application's main thread is blocked and cannot do this now." },
  TOO_MANY_CONNECTIONS: { status: 503, message: 'All connections for authenticated callers are in use; close some and try again.' },
  SNAPSHOT_DIR_UNAVAILABLE: { status: 503, message: 'The directory heap snapshots are written to cannot be used.' },
  INTERNAL: { status: 500, message: 'The endpoint failed unexpectedly.' },
  // The endpoint waited on the application's code as a gateway waits on an upstream.
  ACTION_TIMEOUT: { status: 504, message: 'The action did not finish within its time limit.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERRORS, value);
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}
