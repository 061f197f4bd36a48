// The CLI stepping aside for a process it is snapshotting on the same machine. While V8
// writes a snapshot the process is paused, and everything the CLI does meanwhile
// (receiving, verifying, writing the file) competes with V8's writer for the machine's
// cores. Measured on 2 cores with a 250 MB heap (docs/benchmarks.md#heap-snapshots): the
// pause grew by a median 12% when the CLI ran at the writer's priority, 1-7% at nice 19.
// The CLI's work is not delayed by it on an idle core, and it finishes once V8 has.
//
// Lowering a priority needs no privilege; raising it back would, so this lasts until the
// CLI exits (one command). On Linux every thread has its own nice value: each is lowered,
// and threads started later inherit it from the thread that starts them. (A thread that
// ends between the listing and its turn could, in theory, have its id reused by another
// process at that moment: ids wrap far too slowly for that to matter.)
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

/** The lowest priority (nice 19). */
const LOWEST_PRIORITY = 19;

/** Lowers this process's CPU priority to the lowest, for the rest of the command; never throws. */
export function yieldCpuToLocalProcess(): void {
  let threads: number[];
  try {
    threads = readdirSync('/proc/self/task').map(Number);
  } catch {
    threads = [0]; // no procfs: the process itself, which is the whole process elsewhere
  }
  for (const thread of threads) {
    try {
      setPriority(thread, LOWEST_PRIORITY);
    } catch {
      // A thread gone meanwhile, or a platform that refuses: the download goes on regardless.
    }
  }
}
