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

/** Below this many pairs, insertion sort beats another radix pass. */
const INSERTION_MAX = 48;
/** The in-place sort's digits: 8 bits, four levels, so that a pass over a small bucket costs little. */
const FLAG_BITS = 8;
const FLAG_BUCKETS = 1 << FLAG_BITS;
const FLAG_LEVELS = 32 / FLAG_BITS;

/**
 * Sorts distinct `keys` ascending in place, `values` along, with no scratch arrays: an
 * in-place MSD radix sort (American flag sort) on four 8-bit digits. Not stable, which
 * distinct keys (a snapshot's object ids) do not need. For the class census read on a
 * thread while another file is read: the scratch of sortPairs (8 bytes a pair) was the
 * largest allocation then alive (see thread-read.ts).
 */
export function sortDistinctPairsInPlace(keys: Uint32Array, values: Uint16Array | Uint32Array): void {
  // Counters per level: a level's are in use while the levels below it run.
  const next = Array.from({ length: FLAG_LEVELS }, () => new Uint32Array(FLAG_BUCKETS));
  const ends = Array.from({ length: FLAG_LEVELS }, () => new Uint32Array(FLAG_BUCKETS));
  flagPass(keys, values, 0, keys.length, 0, next, ends);
}

function flagPass(
  keys: Uint32Array,
  values: Uint16Array | Uint32Array,
  start: number,
  end: number,
  level: number,
  nexts: Uint32Array[],
  endsByLevel: Uint32Array[],
): void {
  if (end - start <= INSERTION_MAX) return insertionSort(keys, values, start, end);
  const shift = 32 - FLAG_BITS * (level + 1);
  const next = nexts[level] as Uint32Array;
  const ends = endsByLevel[level] as Uint32Array;
  next.fill(0);
  for (let i = start; i < end; i++) {
    const digit = ((keys[i] as number) >>> shift) & (FLAG_BUCKETS - 1);
    next[digit] = (next[digit] as number) + 1;
  }
  let position = start;
  for (let digit = 0; digit < FLAG_BUCKETS; digit++) {
    const count = next[digit] as number;
    next[digit] = position;
    position += count;
    ends[digit] = position;
  }
  // Each pair is carried to the next free slot of its bucket, and the pair found there
  // carried on in turn, until a pair belonging to the bucket being filled comes back.
  for (let digit = 0; digit < FLAG_BUCKETS; digit++) {
    const bucketEnd = ends[digit] as number;
    while ((next[digit] as number) < bucketEnd) {
      const at = next[digit] as number;
      let key = keys[at] as number;
      let value = values[at] as number;
      let to = (key >>> shift) & (FLAG_BUCKETS - 1);
      while (to !== digit) {
        const slot = next[to] as number;
        next[to] = slot + 1;
        const displacedKey = keys[slot] as number;
        const displacedValue = values[slot] as number;
        keys[slot] = key;
        values[slot] = value;
        key = displacedKey;
        value = displacedValue;
        to = (key >>> shift) & (FLAG_BUCKETS - 1);
      }
      keys[at] = key;
      values[at] = value;
      next[digit] = at + 1;
    }
  }
  if (level === FLAG_LEVELS - 1) return;
  let from = start;
  for (let digit = 0; digit < FLAG_BUCKETS; digit++) {
    const to = ends[digit] as number;
    if (to - from > 1) flagPass(keys, values, from, to, level + 1, nexts, endsByLevel);
    from = to;
  }
}

function insertionSort(keys: Uint32Array, values: Uint16Array | Uint32Array, start: number, end: number): void {
  for (let i = start + 1; i < end; i++) {
    const key = keys[i] as number;
    const value = values[i] as number;
    let j = i - 1;
    while (j >= start && (keys[j] as number) > key) {
      keys[j + 1] = keys[j] as number;
      values[j + 1] = values[j] as number;
      j--;
    }
    keys[j + 1] = key;
    values[j + 1] = value;
  }
}
