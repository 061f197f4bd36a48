// Heap snapshots the endpoint captures by itself (GET /snapshots and its neighbours).

export const CAPTURE_RULES = ['heap-above', 'leak-suspected', 'near-heap-limit'] as const;
export type CaptureRule = (typeof CAPTURE_RULES)[number];

/** A heap snapshot the endpoint captured by itself, stored gzip-compressed. */
export interface CapturedSnapshot {
  /** `<UTC time>-<rule>-<random>`: safe in a URL and a file name. */
  id: string;
  /** ISO time of the capture. */
  time: string;
  rule: CaptureRule;
  /** Why the rule fired, as a sentence. */
  reason: string;
  /** Bytes stored and served (gzip). */
  bytes: number;
  /** SHA-256 of the stored bytes, hex: the download's ETag. */
  sha256: string;
  /** Size of the snapshot uncompressed. */
  snapshotBytes: number;
  heapUsedBytes: number;
  /** How long the event loop was blocked writing it. */
  pauseMs: number;
  app: string;
  host: string;
  pid: number;
}

/**
 * Why a rule fired without a capture, stable for machines: another snapshot was running;
 * `maxCount` captures are stored; the capture could overrun `maxDiskBytes`; the memory
 * or disk preflight refused; writing failed; the directory cannot be used.
 */
export const CAPTURE_SKIP_REASONS = ['busy', 'max-count', 'disk-budget', 'low-memory', 'low-disk', 'write-failed', 'dir-unusable'] as const;
export type CaptureSkipReason = (typeof CAPTURE_SKIP_REASONS)[number];

/** A rule fired: what came of it. */
export interface CaptureEvent {
  time: string;
  rule: CaptureRule;
  outcome: 'captured' | 'skipped' | 'failed';
  /** The capture's id when one was stored. */
  id: string | null;
  /** Null when captured. */
  reason: CaptureSkipReason | null;
  /** A sentence: what was stored, or why not. */
  message: string;
}

export interface CaptureStatus {
  /** False when the directory cannot be used: `disabledReason` says why. */
  enabled: boolean;
  disabledReason: string | null;
  dir: string;
  rules: { heapAboveBytes: number | null; onLeakSuspected: boolean; nearHeapLimitRatio: number | null };
  cooldownMs: number;
  maxCount: number;
  maxDiskBytes: number;
  /** Captures stored now, and their bytes. */
  count: number;
  diskBytes: number;
  lastEvent: CaptureEvent | null;
}

export interface SnapshotsResponse {
  snapshots: CapturedSnapshot[];
  capture: CaptureStatus;
}

export interface SnapshotDeleteResponse {
  deleted: CapturedSnapshot;
}
