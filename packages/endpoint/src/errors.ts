// Errors the endpoint throws at the application (not the ones it sends over HTTP,
// which live in protocol/errors.ts). Each has a stable `code`.

/** The options given to createMaintenanceEndpoint are wrong; `problems` lists every one. */
export class EndpointConfigError extends Error {
  readonly code = 'OPSCTL_INVALID_OPTIONS';
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(
      problems.length === 1
        ? `opsctl endpoint: ${problems[0]}`
        : `opsctl endpoint: ${problems.length} problems in the options:\n  - ${problems.join('\n  - ')}`,
    );
    this.name = 'EndpointConfigError';
    this.problems = problems;
  }
}
