// The endpoint's refusals in the CLI's words: the one place that turns an error code
// and its details into a sentence about the flags a user typed (--skip-memory-check,
// not skipMemoryCheck=true; no routes, no HTTP) and the next step. The endpoint's own
// sentence is kept where it already speaks of the application and not of the wire.
import type { ErrorCode } from '../endpoint/protocol.js';
import { formatBytes, formatDurationMs } from '../ui/format.js';

export interface RefusalFacts {
  url: URL;
  /** Where the token came from (client/http.ts); OPSCTL_TOKEN wins over a stored one. Default: given. */
  tokenSource?: 'environment' | 'stored' | 'given';
  /** The command as typed ("opsctl heapdump"); null or absent: "this command". */
  command?: string | null;
  retryAfterSeconds: number | null;
  details: Record<string, unknown> | undefined;
}

export interface Refusal {
  message: string;
  hint: string | undefined;
}

/** The flag behind each query or body parameter the CLI sends, and how to show its unit. */
const FLAGS: Readonly<Record<string, { flag: string; unit: string | null; show: (value: number) => string }>> = {
  seconds: { flag: '--duration', unit: 'seconds', show: (s) => formatDurationMs(s * 1000) },
  intervalUs: { flag: '--interval', unit: 'microseconds', show: (us) => formatDurationMs(us / 1000) },
  intervalBytes: { flag: '--interval', unit: 'bytes', show: (bytes) => formatBytes(bytes) },
  timeoutMs: { flag: '--eval-timeout', unit: 'milliseconds', show: (ms) => formatDurationMs(ms) },
  skipMemoryCheck: { flag: '--skip-memory-check', unit: null, show: String },
  gc: { flag: '--gc', unit: null, show: String },
  worker: { flag: '--worker', unit: null, show: String },
};

export function describeRefusal(code: ErrorCode, endpointMessage: string, facts: RefusalFacts): Refusal {
  const details = facts.details ?? {};
  const number = (key: string): number | null => (typeof details[key] === 'number' ? (details[key] as number) : null);
  const text = (key: string): string => String(details[key] ?? '').slice(0, 64);
  const retry = facts.retryAfterSeconds === null ? '' : ` in ${formatDurationMs(facts.retryAfterSeconds * 1000)}`;
  const sentence = lowerFirst(endpointMessage.replace(/\.$/, ''));
  switch (code) {
    case 'AUTH_REQUIRED':
    case 'AUTH_INVALID':
    case 'AUTH_MALFORMED': {
      const message =
        code === 'AUTH_REQUIRED'
          ? 'the endpoint wants a token, and none was sent'
          : code === 'AUTH_INVALID'
            ? 'the endpoint does not accept this token'
            : 'the endpoint could not read the token';
      // A stored token is not used while OPSCTL_TOKEN is set: logging in again would change nothing.
      if (facts.tokenSource === 'environment')
        return {
          message: `${message} (from OPSCTL_TOKEN)`,
          hint: 'the token in OPSCTL_TOKEN was mistyped, revoked or belongs elsewhere; set it to a valid one, or unset it to use the token stored by opsctl login',
        };
      if (facts.tokenSource === 'stored')
        return { message, hint: `the token was mistyped, revoked or belongs elsewhere; log in again: opsctl login ${facts.url.origin}` };
      return { message, hint: 'the token was mistyped, revoked or belongs elsewhere' };
    }
    case 'SCOPE_MISSING': {
      const required = text('required');
      // A parameter that needs more than the route's scope (skipMemoryCheck needs admin): named as the flag.
      const flag = typeof details['param'] === 'string' ? FLAGS[details['param']]?.flag : undefined;
      if (flag !== undefined) {
        return {
          message: `${flag} needs a token with the "${required}" scope`,
          hint: `leave out ${flag}, or ask the application's owner for a token with the "${required}" scope`,
        };
      }
      const held = Array.isArray(details['held']) ? details['held'].map((scope) => String(scope).slice(0, 32)) : null;
      // The endpoint names the token only in its sentence.
      const name = /^the token "([^"]{1,64})"/i.exec(endpointMessage)?.[1];
      const who = name === undefined ? 'this token' : `"${name}"`;
      const has = held === null ? 'does not have it' : held.length === 0 ? 'has no scopes' : `has ${held.join(', ')}`;
      return {
        message: `${facts.command ?? 'this command'} needs a token with the "${required}" scope; ${who} ${has}`,
        hint: `ask the application's owner for a token with the "${required}" scope${facts.tokenSource === 'environment' ? ', and put it in OPSCTL_TOKEN' : ''}`,
      };
    }
    case 'THROTTLED':
      return { message: sentence, hint: `too many failed logins from this address; try again${retry}` };
    case 'BUSY':
      return { message: sentence, hint: `try again${retry}` };
    case 'SHUTTING_DOWN':
      return { message: sentence, hint: 'the process is stopping; try its replacement' };
    case 'FEATURE_DISABLED':
      // The endpoint says what turns it on; older ones did not.
      return {
        message: sentence,
        hint:
          details['fix'] === undefined
            ? 'the application has to enable this feature in its endpoint options'
            : `ask whoever runs the application to ${String(details['fix']).slice(0, 200)}`,
      };
    case 'NOT_FOUND':
      return { message: 'the endpoint does not offer this command', hint: 'it may be an older version; see what it offers: opsctl status' };
    case 'BAD_PARAM':
      return badParam(sentence, details);
    case 'LOW_MEMORY':
      return lowMemory(sentence, details);
    case 'LOW_DISK': {
      const needed = number('estimatedFileBytes');
      const free = number('freeBytes');
      if (needed === null || free === null) return { message: sentence, hint: "the application's heapSnapshot.dir needs more free space" };
      return {
        message: `a heap snapshot may need up to ${formatBytes(needed)} of disk where the process writes it, but only ${formatBytes(free)} is free there`,
        hint: 'free space there, or have the application set heapSnapshot.dir to a larger volume',
      };
    }
    case 'UNKNOWN_ACTION':
      return { message: `the application has no action "${text('action')}"`, hint: "list the application's actions: opsctl actions" };
    case 'UNKNOWN_SNAPSHOT':
      return { message: `no captured heap snapshot has the id "${text('id')}"`, hint: 'list the captures: opsctl snapshots list' };
    case 'UNKNOWN_WORKER':
      return { message: `no running worker thread is registered as "${text('worker')}"`, hint: 'the registered workers are listed by: opsctl status' };
    case 'ACTION_FAILED':
      return { message: sentence, hint: "the error is the application's own; its logs may say more" };
    case 'ACTION_TIMEOUT':
      return { message: sentence, hint: 'it may still be running in the process; check before running it again' };
    case 'MAIN_THREAD_BLOCKED':
      if (details['snapshot']) return { message: sentence, hint: `try again${retry}, once the snapshot is written` };
      // Only a token that may see stacks is told where it is stuck, and pointed at opsctl stack.
      return {
        message: sentence,
        hint: Array.isArray(details['stack']) ? 'see where it is stuck: opsctl stack; try again once it is free' : 'try again once it is free',
      };
    case 'TOO_MANY_CONNECTIONS':
      return { message: sentence, hint: `close other sessions and streams to this process, then try again${retry}` };
    case 'SNAPSHOT_DIR_UNAVAILABLE':
      return { message: sentence, hint: "the application's heapSnapshot.dir (OPSCTL_HEAP_SNAPSHOT_DIR) must be a directory it can write" };
    default:
      return { message: sentence, hint: undefined };
  }
}

/** A parameter the CLI sent from a flag: named as the flag, with its limit in the flag's unit. */
function badParam(sentence: string, details: Record<string, unknown>): Refusal {
  const param = typeof details['param'] === 'string' ? details['param'] : null;
  const known = param === null || details['action'] !== undefined ? undefined : FLAGS[param];
  // An action's own parameters are the key=value words the user typed: its sentence names them.
  if (known === undefined) return { message: sentence, hint: details['action'] === undefined ? undefined : `see its parameters: opsctl actions` };
  const max = typeof details['max'] === 'number' ? details['max'] : null;
  if (max !== null) {
    const application = param === 'timeoutMs' ? ", the application's limit (repl.evalTimeoutMs)" : '';
    return { message: `${known.flag} may be at most ${known.show(max)}${application}`, hint: `give ${known.flag} ${known.show(max)} or less, or leave it out` };
  }
  const counted = known.unit === null ? '' : ` (it counts ${known.unit})`;
  return {
    message: `the endpoint does not accept this ${known.flag}${counted}: ${sentence.replace(new RegExp(`^the parameter ${param} `, 'i'), 'it ')}`,
    hint: "the command's --help gives the range",
  };
}

function lowMemory(sentence: string, details: Record<string, unknown>): Refusal {
  const hint = 'pass --skip-memory-check to take the risk (it needs a token with the admin scope), or try when the process uses less memory';
  const { estimatedExtraBytes: needed, headroomBytes: left, limitBytes: limit, limitSource: source } = details;
  if (typeof needed !== 'number' || typeof left !== 'number' || typeof limit !== 'number')
    return { message: sentence.replace(/ Pass skipMemoryCheck=true[^.]*$/i, ''), hint };
  const where =
    source === 'configured' ? 'the configured limit' : source === 'system' ? "the machine's memory" : `the container's memory limit (${String(source)})`;
  return {
    message: `a heap snapshot would need about ${formatBytes(needed)} more memory, but only ${formatBytes(left)} is left under ${where} of ${formatBytes(limit)}; the process could be OOM-killed`,
    hint,
  };
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
