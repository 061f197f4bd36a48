// Node's diagnostic report (process.report): versions, resource usage, the JS and native
// stacks, libuv handles, limits, loaded libraries, with these changes:
//
// - network lookups are excluded (process.report.excludeNetwork, Node 20.13+): without
//   it, the report resolves the peer of every socket by reverse DNS, which stalled busy
//   servers for minutes (docs/operations.md#profiles-and-the-diagnostic-report). The
//   application's own setting is restored after.
// - environment variable values are replaced, names kept: they hold database passwords
//   and API keys, and the `profile` scope is not one that grants secrets (heap and repl are).
//   This holds for every worker thread too: `workers[]` are whole reports of their own.
// - on the command line, the value of a flag whose name looks secret (--password=…,
//   --token …, --auth, --jwt, --dsn, DB_PASS=…) is replaced. The rest is kept: which
//   script and which Node flags (--max-old-space-size, --inspect) ran is much of what a
//   report is read for, and a plain value cannot be told from a path or a port.
// - anywhere in the report, the user information of a URL (postgres://app:PW@db) is
//   replaced: connection strings carry passwords whatever flag holds them.
type ReportSettings = typeof process.report & { excludeNetwork?: boolean };

export const REDACTED = '[redacted by opsctl]';

/** A flag or variable name that usually carries a secret. */
const SECRET_NAME = /pass|secret|token|key|credential|auth|jwt|dsn|cookie|session|bearer|signature|salt/i;
/** `scheme://userinfo@`: the userinfo of a URL, where connection strings keep their password. */
const URL_USERINFO = /\b([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^\s/?#@]+@/g;
/** `NAME=value` or `--name=value` with a name of word characters: not code given to -e. */
const ASSIGNMENT = /^(-{0,2}[A-Za-z0-9_.-]+)=/;

export function diagnosticReport(): Record<string, unknown> {
  const settings = process.report as ReportSettings;
  const previous = settings.excludeNetwork;
  settings.excludeNetwork = true;
  let report: Record<string, unknown>;
  try {
    report = settings.getReport() as Record<string, unknown>;
  } finally {
    settings.excludeNetwork = previous ?? false;
  }
  redactReport(report);
  return report;
}

/** Redacts, in place, `report` and every worker thread's report within it. */
function redactReport(report: Record<string, unknown>): void {
  redactUrlCredentials(report);
  const env = report['environmentVariables'];
  if (isObject(env)) report['environmentVariables'] = Object.fromEntries(Object.keys(env).map((name) => [name, REDACTED]));
  const header = report['header'];
  if (isObject(header) && Array.isArray(header['commandLine'])) header['commandLine'] = redactCommandLine(header['commandLine']);
  const workers = report['workers'];
  if (Array.isArray(workers)) for (const worker of workers) if (isObject(worker)) redactReport(worker);
}

/**
 * The command line with the values of secret-looking flags replaced: `--token=x`,
 * `DB_PASSWORD=x`, and the word after `--token` unless it is itself a long option
 * (a boolean flag may hide the word after it: the safe side).
 */
export function redactCommandLine(args: readonly unknown[]): unknown[] {
  let hideNext = false;
  return args.map((arg) => {
    const hide = hideNext;
    hideNext = false;
    if (typeof arg !== 'string') return arg;
    if (hide && !arg.startsWith('--')) return REDACTED;
    const assignment = ASSIGNMENT.exec(arg);
    if (assignment !== null) return SECRET_NAME.test(assignment[1] ?? '') ? `${assignment[0]}${REDACTED}` : arg;
    hideNext = arg.startsWith('-') && SECRET_NAME.test(arg);
    return arg;
  });
}

/** `text` with the userinfo of every URL in it replaced. */
function redactUrlUserinfo(text: string): string {
  return text.replace(URL_USERINFO, `$1${REDACTED}@`);
}

/** Replaces, in place, URL userinfo in every string of `value`. */
function redactUrlCredentials(value: Record<string, unknown> | unknown[]): void {
  for (const [key, item] of Object.entries(value)) {
    const redacted = typeof item === 'string' ? redactUrlUserinfo(item) : item;
    if (redacted !== item) (value as Record<string, unknown>)[key] = redacted;
    else if (item !== null && typeof item === 'object') redactUrlCredentials(item as Record<string, unknown>);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
