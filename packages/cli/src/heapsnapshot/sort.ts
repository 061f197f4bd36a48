// Sorts object ids with a parallel array riding along. Millions of ids: a comparator sort
// over an index array takes seconds and a JS array per element; two radix passes over
// 16-bit digits take milliseconds and two more typed arrays.
const DIGIT_BITS = 16;
const BUCKETS = 1 << DIGIT_BITS;

/** Sorts `keys` ascending in place, moving `values[i]` along with `keys[i]`. Stable. */
export function sortPairs(keys: Uint32Array, values: Uint32Array): void {
  const scratchKeys = new Uint32Array(keys.length);
  const scratchValues = new Uint32Array(values.length);
  const starts = new Uint32Array(BUCKETS);
  radixPass(keys, values, scratchKeys, scratchValues, 0, starts);
  radixPass(scratchKeys, scratchValues, keys, values, DIGIT_BITS, starts);
}

/** Sorts `keys` ascending in place (a typed array's own sort took 0.7 s for 11M ids here). */
export function sortKeys(keys: Uint32Array): void {
  const scratch = new Uint32Array(keys.length);
  const starts = new Uint32Array(BUCKETS);
  radixPass(keys, null, scratch, null, 0, starts);
  radixPass(scratch, null, keys, null, DIGIT_BITS, starts);
}

function radixPass(keys: Uint32Array, values: Uint32Array | null, toKeys: Uint32Array, toValues: Uint32Array | null, shift: number, starts: Uint32Array): void {
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
    if (values !== null && toValues !== null) toValues[to] = values[i] as number;
  }
}
