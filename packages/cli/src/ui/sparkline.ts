// A sparkline of values in block characters, scaled between their minimum and maximum.

const BLOCKS = '▁▂▃▄▅▆▇█';

export function sparkline(values: readonly number[], width: number): string {
  const shown = values.slice(-Math.max(1, width));
  if (shown.length === 0) return '';
  const min = Math.min(...shown);
  const range = Math.max(...shown) - min;
  return shown.map((v) => BLOCKS[range === 0 ? 0 : Math.round(((v - min) / range) * (BLOCKS.length - 1))]).join('');
}
