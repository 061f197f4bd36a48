// The next step to suggest for each endpoint error code.
import type { ErrorCode } from '@opsctl/endpoint/protocol';

export interface HintFacts {
  url: URL;
  retryAfterSeconds: number | null;
  details: Record<string, unknown> | undefined;
}

export function errorHint(code: ErrorCode, facts: HintFacts): string | undefined {
  const retry = facts.retryAfterSeconds === null ? '' : ` in ${facts.retryAfterSeconds} s`;
  switch (code) {
    case 'AUTH_REQUIRED':
    case 'AUTH_INVALID':
    case 'AUTH_MALFORMED':
      return `the token was mistyped, revoked or belongs elsewhere; log in again: opsctl login ${facts.url.origin} --name NAME`;
    case 'SCOPE_MISSING':
      return `ask the application's owner for a token with the "${String(facts.details?.['required'] ?? '')}" scope`;
    case 'THROTTLED':
      return `too many failed logins from this address; try again${retry}`;
    case 'BUSY':
      return `try again${retry}`;
    case 'SHUTTING_DOWN':
      return 'the process is stopping; try its replacement';
    case 'FEATURE_DISABLED':
      return 'the application has to enable this feature in its endpoint options';
    case 'NOT_FOUND':
      return 'the endpoint may be an older version; run: opsctl status';
    case 'UNKNOWN_ACTION':
      return 'list the application\'s actions: opsctl actions';
    case 'UNKNOWN_SNAPSHOT':
      return 'list the captures: opsctl snapshots list';
    case 'UNKNOWN_WORKER':
      return 'the registered workers are listed by: opsctl status';
    case 'ACTION_FAILED':
      return 'the error is the application\'s own; its logs may say more';
    case 'ACTION_TIMEOUT':
      return 'it may still be running in the process; check before running it again';
    case 'MAIN_THREAD_BLOCKED':
      return facts.details?.['snapshot'] ? `try again${retry}, once the snapshot is written` : 'see where it is stuck: opsctl stack; and try again once it is free';
    case 'TOO_MANY_CONNECTIONS':
      return `close other sessions and streams to this process, then try again${retry}`;
    case 'SNAPSHOT_DIR_UNAVAILABLE':
      return 'the application\'s heapSnapshot.dir (OPSCTL_HEAP_SNAPSHOT_DIR) must be a directory it can write';
    default:
      return undefined;
  }
}
