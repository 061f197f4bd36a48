// The endpoint's wire protocol, the one part of @opsctl/endpoint the CLI needs. The CLI
// imports it through this file, never the package: scripts/bundle-cli.mjs bundles the
// protocol's own code into dist/, so the opsctl tarball installs without @opsctl/endpoint
// (docs/install.md#why-the-cli-does-not-depend-on-the-endpoint).
export * from '@opsctl/endpoint/protocol';
