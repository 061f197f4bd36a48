// The wire contract between @opsctl/endpoint and the opsctl CLI (the package's
// `./protocol` export): error codes with their statuses, scopes, header names, name
// patterns and answer shapes. A leaf: it imports nothing of the endpoint but node:
// builtins, so both packages can depend on it (layering.test.ts keeps it so).
export * from './actions.js';
export * from './capture.js';
export * from './errors.js';
export * from './headers.js';
export * from './leaks.js';
export * from './names.js';
export * from './process.js';
export * from './repl.js';
export * from './scopes.js';
