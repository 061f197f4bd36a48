// Retry-After figures shared by the gates of heavy operations, wherever they are made.

/** What a refused second snapshot is told: a 200 MB heap takes ~15-30 s to snapshot. */
export const HEAP_SNAPSHOT_RETRY_AFTER_S = 30;
