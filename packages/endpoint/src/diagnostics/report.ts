// Node's diagnostic report (process.report): versions, resource usage, the JS and native
// stacks, libuv handles, limits, loaded libraries, with these two changes:
//
// - network lookups are excluded (process.report.excludeNetwork, Node 20.13+): without
//   it, the report resolves the peer of every socket by reverse DNS, which stalled busy
//   servers for minutes (FACTS.md). The application's own setting is restored after.
// - environment variable values are replaced, names kept: they hold database passwords
//   and API keys, and the `profile` scope is not one that grants secrets (heap and repl are).
type ReportSettings = typeof process.report & { excludeNetwork?: boolean };

export const REDACTED = '[redacted by opsctl]';

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
  const env = report['environmentVariables'];
  if (env !== null && typeof env === 'object') {
    report['environmentVariables'] = Object.fromEntries(Object.keys(env).map((name) => [name, REDACTED]));
  }
  return report;
}
