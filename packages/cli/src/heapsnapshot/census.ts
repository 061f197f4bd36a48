// A snapshot's class census (summarizeByClass's answer) taken as the snapshot is read, for
// the two-snapshot diff without retainers: no node columns, no edges. The reader fills
// small columns a window of rows at a time; each window is reduced at once to what the
// census keeps per object (its id and a class key, 6 bytes) and per class key (count and
// bytes). Class keys are the node's type for fixed-name types and its name's string index
// for objects and natives; once the names are read, keys with the same class name become
// one group, as in ClassTable.
import { classNamesByType, finishSummary, type ClassGroup, type ClassSummary, type GroupNumbers } from './classes.js';
import { HeapSnapshotError } from './errors.js';
import type { SnapshotHeader } from './header.js';
import type { NodeColumns, ScanHandlers } from './scanner.js';
import { scanSnapshot, type ReadOptions, type SnapshotSource } from './source.js';

// Rows per window: 1.1 MB of columns, and few hand-overs.
const WINDOW_ROWS = 1 << 16;
const NO_KEY = -1;
/** Keys 0 to 65535 fit a Uint16Array. */
const MAX_UINT16_KEYS = 1 << 16;

/** With sortIds false, the ids stay in node order: no sort, and none of its scratch memory (see diffClassSummaries). */
export async function readClassSummary(source: SnapshotSource, options: ReadOptions & { sortIds?: boolean } = {}): Promise<ClassSummary> {
  const census = new Census();
  await scanSnapshot(source, census, options);
  return census.summary(options.sortIds ?? true);
}

class Census implements ScanHandlers {
  readonly #window = {
    type: new Uint8Array(WINDOW_ROWS),
    name: new Uint32Array(WINDOW_ROWS),
    id: new Uint32Array(WINDOW_ROWS),
    selfSize: new Float64Array(WINDOW_ROWS),
  };
  /**
   * Per counted object (non-zero size), in node order: its id, and its class key (later
   * its group): 16 bits until a key needs more (one snapshot has a few thousand classes;
   * 2 bytes an object saved, 6 MB of a 3-million-node snapshot).
   */
  #ids = new Uint32Array(0);
  #keys: GroupNumbers = new Uint16Array(0);
  #counted = 0;
  /** Per node type: its class key for a fixed-name type, NO_KEY for a named one. */
  #keyOfType = new Int32Array(0);
  /** Per string index: the class key of that name, NO_KEY until met; grown as names are met. */
  #keyOfName = new Int32Array(1024).fill(NO_KEY);
  /** Per class key: the name's string index (or -1 - type), objects and bytes. */
  readonly #keyName: number[] = [];
  readonly #keyCount: number[] = [];
  readonly #keySize: number[] = [];
  readonly #names = new Map<number, string>();
  #fixedNames: (string | null)[] = [];

  header(header: SnapshotHeader): NodeColumns {
    try {
      this.#ids = new Uint32Array(header.nodeCount);
      this.#keys = new Uint16Array(header.nodeCount);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      throw new HeapSnapshotError('HEAPSNAPSHOT_MALFORMED', `the heap snapshot is malformed: node_count (${header.nodeCount}) is too large to hold`, null, {
        cause: error,
      });
    }
    this.#fixedNames = classNamesByType(header.nodeTypes);
    this.#keyOfType = Int32Array.from(this.#fixedNames, (name, type) => (name === null ? NO_KEY : this.#newKey(-1 - type)));
    return { ...this.#window, window: WINDOW_ROWS };
  }

  rows(count: number): void {
    const { type, name, id, selfSize } = this.#window;
    const ids = this.#ids;
    let keys = this.#keys;
    const keyOfType = this.#keyOfType;
    const keyCount = this.#keyCount;
    const keySize = this.#keySize;
    let counted = this.#counted;
    for (let row = 0; row < count; row++) {
      const size = selfSize[row] as number;
      if (size === 0) continue;
      let key = keyOfType[type[row] as number] as number;
      if (key === NO_KEY) {
        key = this.#keyOfNamed(name[row] as number);
        if (key >= MAX_UINT16_KEYS && keys instanceof Uint16Array) keys = this.#widenKeys(counted);
      }
      keyCount[key] = (keyCount[key] as number) + 1;
      keySize[key] = (keySize[key] as number) + size;
      ids[counted] = id[row] as number;
      keys[counted++] = key;
    }
    this.#counted = counted;
  }

  edges(): 'skip' {
    return 'skip';
  }

  /** The names of the named classes met. */
  stringsWanted(): Uint8Array {
    const wanted = new Uint8Array(this.#keyOfName.length);
    for (const name of this.#keyName) if (name >= 0) wanted[name] = 1;
    return wanted;
  }

  string(index: number, value: string): void {
    this.#names.set(index, value);
  }

  number(index: number, value: number): void {
    this.#names.set(index, String(value));
  }

  /** Keys with one class name become one group; then as summarizeByClass. */
  summary(sortIds: boolean): ClassSummary {
    const groups: ClassGroup[] = [];
    const groupOfName = new Map<string, number>();
    const groupOfKey = this.#keyName.map((name, key) => {
      // Fixed-name types have keys from the start, whether or not any node has them.
      if (this.#keyCount[key] === 0) return -1;
      const className = name >= 0 ? (this.#names.get(name) ?? '') : (this.#fixedNames[-1 - name] as string);
      let group = groupOfName.get(className);
      if (group === undefined) {
        group = groups.push({ name: className, count: 0, selfSize: 0 }) - 1;
        groupOfName.set(className, group);
      }
      const entry = groups[group] as { count: number; selfSize: number };
      entry.count += this.#keyCount[key] as number;
      entry.selfSize += this.#keySize[key] as number;
      return group;
    });
    const counted = this.#counted;
    const groupOf = this.#keys.subarray(0, counted);
    for (let i = 0; i < counted; i++) groupOf[i] = groupOfKey[groupOf[i] as number] as number;
    return finishSummary(groups, this.#ids.subarray(0, counted), groupOf, sortIds);
  }

  #keyOfNamed(name: number): number {
    if (name >= this.#keyOfName.length) {
      const grown = new Int32Array(Math.max(name + 1, 2 * this.#keyOfName.length)).fill(NO_KEY);
      grown.set(this.#keyOfName);
      this.#keyOfName = grown;
    }
    const key = this.#keyOfName[name] as number;
    return key === NO_KEY ? (this.#keyOfName[name] = this.#newKey(name)) : key;
  }

  /**
   * Keys in 32 bits from now on. Only the rows counted so far are copied: the array is
   * sized by the header's node_count, which a crafted file can inflate, and untouched
   * pages cost nothing until written.
   */
  #widenKeys(counted: number): Uint32Array {
    const wide = new Uint32Array(this.#keys.length);
    wide.set(this.#keys.subarray(0, counted));
    this.#keys = wide;
    return wide;
  }

  #newKey(name: number): number {
    this.#keyName.push(name);
    this.#keyCount.push(0);
    this.#keySize.push(0);
    return this.#keyName.length - 1;
  }
}
