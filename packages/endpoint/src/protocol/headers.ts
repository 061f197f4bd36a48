// Header and trailer names of the endpoint's answers and of the CLI's requests, and the
// kernel key a client sends so that an endpoint on the same machine skips gzip.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Names the process that answered, on every response: `<host>; pid=<pid>; start=<ISO time>`. */
export const INSTANCE_HEADER = 'opsctl-instance';
/** Sent before a heap snapshot starts: bytes of JS heap in use, and the expected pause. */
export const HEAP_USED_HEADER = 'opsctl-heap-used';
export const EXPECTED_PAUSE_HEADER = 'opsctl-expected-pause-ms';
/** Estimated size of the uncompressed snapshot, for a progress bar: the real size is known only at the end. */
export const ESTIMATED_SIZE_HEADER = 'opsctl-estimated-bytes';

/**
 * A trailer of streamed answers: the error body (JSON, as in an error response) when the
 * operation failed after the 200 and its headers were sent.
 */
export const ERROR_TRAILER = 'opsctl-error';
/**
 * A trailer of GET /heapdump: how long V8 took to write the snapshot (the process, or
 * the worker, was paused that long). The body's first bytes leave before the write has
 * ended, so the time to the first byte no longer tells.
 */
export const PAUSE_TRAILER = 'opsctl-pause-ms';

/**
 * Sent by a client with GET /heapdump: which running kernel it is on (kernelKey()). An
 * endpoint on the same kernel sends the snapshot uncompressed even when gzip is
 * accepted: the bytes only cross memory, and gzip would cost more CPU than the copy
 * (measured: gzip level 1 at 125-180 MB/s, gunzip at 180-350 MB/s, on a machine whose
 * other core is writing the snapshot; docs/benchmarks.md#heap-snapshots). Over any network, gzip level 1 (6-6.5:1) wins up
 * to about 1 Gbit/s. The host's address cannot tell: behind `kubectl port-forward` both
 * sides see loopback while the bytes cross a network. An endpoint that recognised the key
 * sends it back on its answer, which tells the client that the process it paused is on
 * its machine (the CLI then lowers its own CPU priority meanwhile).
 */
export const KERNEL_HEADER = 'opsctl-kernel';

let kernel: string | null | undefined;

/**
 * A key for the running kernel: a hash of Linux's boot id (random at each boot, the same
 * inside and outside containers, which share the kernel), or null where there is none.
 * The hash keeps the id itself to this machine.
 */
export function kernelKey(): string | null {
  if (kernel !== undefined) return kernel;
  try {
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    kernel = bootId === '' ? null : createHash('sha256').update(`opsctl kernel ${bootId}`).digest('base64url').slice(0, 32);
  } catch {
    kernel = null;
  }
  return kernel;
}

/** Sent when a profile starts: how long it will run before the body arrives. */
export const PROFILE_SECONDS_HEADER = 'opsctl-profile-seconds';
