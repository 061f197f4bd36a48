// Sorts object ids with a parallel array riding along. Millions of ids: a comparator sort
// over an index array takes seconds and a JS array per element; two radix passes over
// 16-bit digits take milliseconds and two more typed arrays.
const DIGIT_BITS = 16;
const BUCKETS = 1 << DIGIT_BITS;

/**
 * Sorts `keys` ascending in place, moving `values[i]` along with `keys[i]`. Stable.
 * Needs two more arrays as long: given (memory the caller no longer needs), or made.
 */
export function sortPairs(keys: Uint32Array, values: Uint32Array, scratchKeys: Uint32Array = new Uint32Array(keys.length), scratchValues: Uint32Array = new Uint32Array(values.length)): void {
  const starts = new Uint32Array(BUCKETS);
  radixPass(keys, values, scratchKeys, scratchValues, 0, starts);
  radixPass(scratchKeys, scratchValues, keys, values, DIGIT_BITS, starts);
}

function radixPass(keys: Uint32Array, values: Uint32Array, toKeys: Uint32Array, toValues: Uint32Array, shift: number, starts: Uint32Array): void {
  starts.fill(0);
  for (let i = 0; i < keys.length; i++) {
    const digit = ((keys[i] as number) >>> shift) & (BUCKETS - 1);
    starts[digit] = (starts[digit] as number) + 1;
  }
  let position = 0;
  for (let digit = 0; digit < BUCKETS; digit++) {
    const count = starts[digit] as number;
    starts[digit] = position;
    position += count;
  }
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as number;
    const digit = (key >>> shift) & (BUCKETS - 1);
    const to = starts[digit] as number;
    starts[digit] = to + 1;
    toKeys[to] = key;
    toValues[to] = values[i] as number;
  }
}
