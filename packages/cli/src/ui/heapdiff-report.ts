// How opsctl heapdiff and leaks --diff print a comparison of heap snapshots
// (operations/heap-diff.ts): the same aligned table on a terminal and in a pipe.
import type { ChalkInstance } from 'chalk';
import type { GrowthResult, HeapdiffResult, RetainedResult } from '../operations/heap-diff.js';
import { formatBytes, formatCount as count } from './format.js';
import { renderHolders } from './retainer-paths.js';

const MAX_NAME_CHARS = 60;
const MAX_EXAMPLE_CHARS = 32;

/** The human text for a result: the same aligned table on a terminal and in a pipe, coloured only when c is. */
export function renderHeapdiff(result: HeapdiffResult, c: ChalkInstance): string {
  const lines = result.kind === 'growth' ? renderGrowth(result, c) : renderRetained(result, c);
  if (result.more > 0) lines.push(c.dim(`… and ${result.more} more (show them with --limit ${result.limit + result.more})`));
  if (result.kind === 'growth' && result.newObjects !== null) {
    const { total, classes } = result.newObjects;
    lines.push(
      '',
      `${c.bold(`new in ${result.files.b}`)}: ${count(total.count)} objects, ${formatBytes(total.selfSize)}, by what holds them`,
      ...renderHolders(classes, result.files.b, c),
    );
  } else if (result.kind === 'retained') {
    lines.push(...renderHolders(result.classes, result.files.c, c));
  }
  return lines.join('\n');
}

function renderGrowth(r: GrowthResult, c: ChalkInstance): string[] {
  const heap = `${change(r.before.selfSize, r.after.selfSize, formatBytes)}, ${change(r.before.count, r.after.count, count)} objects`;
  const title = `${c.bold(`${r.files.a} → ${r.files.b}`)}: heap ${heap}`;
  if (r.classes.length === 0) return [title, `nothing grew${r.minSize > 0 ? ` by ${formatBytes(r.minSize)} or more` : ''}`];
  const rows = r.classes.map((row) => [
    truncate(row.name, MAX_NAME_CHARS),
    count(row.countBefore),
    '→',
    count(row.countAfter),
    delta(row.countDelta, count),
    formatBytes(row.sizeBefore),
    '→',
    formatBytes(row.sizeAfter),
    delta(row.sizeDelta, formatBytes),
  ]);
  const style = (column: number, text: string) => (column === 0 ? c.bold(text) : column === 4 || column === 8 ? c.yellow(text) : text);
  const body = table(rows, 'l  r l r r  r l r r', style);
  const [w0 = 0, w1 = 0, w2 = 0, w3 = 0, w4 = 0] = body.widths;
  return [title, '', c.dim(`${'class'.padEnd(w0)}  ${'objects'.padEnd(w1 + w2 + w3 + w4 + 3)}  self size`), ...body.lines];
}

function renderRetained(r: RetainedResult, c: ChalkInstance): string[] {
  const title = `${c.bold(`allocated between ${r.files.a} and ${r.files.b}, still alive in ${r.files.c}`)}: ${count(r.total.count)} objects, ${formatBytes(r.total.selfSize)}`;
  if (r.classes.length === 0) return [title, `nothing${r.minSize > 0 ? ` of ${formatBytes(r.minSize)} or more per class` : ''}`];
  // Without C's edges (--retainers 0) nothing was charged to an owner: no such columns.
  const owned = r.ownersCounted;
  const rows = r.classes.map((row) => [
    truncate(row.name, MAX_NAME_CHARS),
    count(row.count),
    formatBytes(row.selfSize),
    ...(owned ? [count(row.held.count), formatBytes(row.held.selfSize)] : []),
    row.examples
      .map((example) =>
        example.name === row.name || example.name === '' ? `@${example.id}` : `@${example.id} ${JSON.stringify(truncate(example.name, MAX_EXAMPLE_CHARS))}`,
      )
      .join(', '),
  ]);
  const examplesColumn = owned ? 5 : 3;
  const style = (column: number, text: string) => (column === 0 ? c.bold(text) : column === examplesColumn ? c.dim(text) : text);
  const [header = '', ...body] = table(rows, owned ? 'l  r  r  r  r  l' : 'l  r  r  l', style, [
    'class',
    'objects',
    'self size',
    ...(owned ? ['they own', 'owned size'] : []),
    `examples (@id in ${r.files.b} and ${r.files.c})`,
  ]).lines;
  return [
    title,
    ...(owned
      ? [c.dim('each object counts with the object that owns it: strings, internal arrays, and new objects of another class held by a new object')]
      : []),
    '',
    c.dim(header),
    ...body,
  ];
}

/**
 * Pads every cell to its column's width (the header's too, if given), then styles it. The
 * layout reads as it prints: 'l  r r' is a left-aligned column, two spaces, then two
 * right-aligned ones, one apart.
 */
function table(rows: string[][], layout: string, style: (column: number, text: string) => string, header?: string[]): { lines: string[]; widths: number[] } {
  const columns = (layout.match(/ *[lr]/g) ?? []).map((spec) => ({ gap: spec.length - 1, right: spec.endsWith('r') }));
  const all = header === undefined ? rows : [header, ...rows];
  const widths = columns.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  const line = (row: string[], styleCell: (column: number, text: string) => string) =>
    columns
      .map(({ gap, right }, column) => {
        const cell = row[column] ?? '';
        const width = widths[column] ?? 0;
        // The last column is not padded: no trailing spaces.
        const padded = right ? cell.padStart(width) : column === columns.length - 1 ? cell : cell.padEnd(width);
        return ' '.repeat(gap) + styleCell(column, padded);
      })
      .join('');
  const lines = rows.map((row) => line(row, style));
  if (header !== undefined) lines.unshift(line(header, (_, text) => text));
  return { lines, widths };
}

function signed(n: number, format: (n: number) => string): string {
  return n > 0 ? `+${format(n)}` : format(n);
}

function delta(n: number, format: (n: number) => string): string {
  return `(${signed(n, format)})`;
}

function change(before: number, after: number, format: (n: number) => string): string {
  return `${format(before)} → ${format(after)} ${delta(after - before, format)}`;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
