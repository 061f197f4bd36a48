/**
 * Bytes for a sentence: "512 KB", "6.2 MB", "1.5 GB", in decimal units (1 KB = 1000 bytes),
 * as the CLI prints sizes (packages/cli/src/ui/format.ts, docs/operations.md): a sentence
 * from the endpoint and the CLI's lines under it give one size the same figure.
 */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? Math.round(value) : value.toFixed(Math.abs(value) >= 100 ? 0 : 1)} ${units[unit]}`;
}
