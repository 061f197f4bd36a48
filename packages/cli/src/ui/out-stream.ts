// What the CLI writes to: process.stdout or process.stderr, or a test's capture of them.
// Its own module so that Output (ui/output.ts) and what Output builds on (ui/progress.ts)
// share it without importing each other.
export interface OutStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}
