// The endpoint's wire protocol, the one part of @opsctl/endpoint the CLI needs. The CLI
// imports it through this file, never the package: after tsc, scripts/bundle-protocol.mjs
// replaces dist/endpoint/ with the protocol's own code, so the opsctl tarball installs
// without @opsctl/endpoint (docs/install.md#why-the-cli-does-not-depend-on-the-endpoint).
export * from '@opsctl/endpoint/protocol';
