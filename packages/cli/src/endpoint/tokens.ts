// Token minting and checking from @opsctl/endpoint, bundled into dist/ like protocol.ts.
export * from '@opsctl/endpoint/tokens';
