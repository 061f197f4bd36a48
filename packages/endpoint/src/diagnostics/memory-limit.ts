// The memory limit this process lives under: its cgroup's (v2, else v1) when one is
// set, else the machine's RAM. Usage follows the kubelet's "working set" (usage minus
// inactive file cache), since the kernel reclaims that cache before it OOM-kills.
import { readFileSync } from 'node:fs';
import { freemem, totalmem } from 'node:os';
import { join } from 'node:path';
import type { MemoryLimit } from '../protocol/index.js';

export interface MemoryLimitSources {
  procSelfCgroup: string;
  cgroupRoot: string;
}

const SYSTEM_SOURCES: MemoryLimitSources = { procSelfCgroup: '/proc/self/cgroup', cgroupRoot: '/sys/fs/cgroup' };
// cgroup v1 reports "no limit" as a huge page-rounded number; v2 writes "max".
const UNLIMITED = 2 ** 60;

/**
 * The limit that binds. `configuredBytes` is a per-process limit the platform cannot
 * show (a supervisor's restart threshold, a VM's quota): it counts this process's RSS
 * and wins when it is tighter than what the cgroup or the machine allows.
 */
export function readMemoryLimit(configuredBytes: number | null = null, sources: MemoryLimitSources = SYSTEM_SOURCES): MemoryLimit {
  const membership = readText(sources.procSelfCgroup) ?? '';
  const platform = cgroupV2Limit(membership, sources.cgroupRoot) ?? cgroupV1Limit(membership, sources.cgroupRoot) ?? systemLimit();
  if (configuredBytes === null) return platform;
  const configured = limitOf('configured', configuredBytes, process.memoryUsage.rss());
  return configured.headroomBytes < platform.headroomBytes ? configured : platform;
}

function cgroupV2Limit(membership: string, root: string): MemoryLimit | null {
  const line = membership.split('\n').find((l) => l.startsWith('0::'));
  if (line === undefined) return null;
  const bound = tightestLimit(root, line.slice(3).trim(), 'memory.max');
  const current = bound && readNumber(join(bound.dir, 'memory.current'));
  if (!bound || current === null) return null;
  return limitOf('cgroup-v2', bound.limit, current - statField(join(bound.dir, 'memory.stat'), 'inactive_file'));
}

function cgroupV1Limit(membership: string, root: string): MemoryLimit | null {
  const line = membership.split('\n').find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
  if (line === undefined) return null;
  const bound = tightestLimit(join(root, 'memory'), line.slice(line.lastIndexOf(':') + 1).trim(), 'memory.limit_in_bytes');
  const usage = bound && readNumber(join(bound.dir, 'memory.usage_in_bytes'));
  if (!bound || usage === null) return null;
  return limitOf('cgroup-v1', bound.limit, usage - statField(join(bound.dir, 'memory.stat'), 'total_inactive_file'));
}

/**
 * The tightest limit on the way from our cgroup up to the hierarchy's root: that is the
 * one that binds. Inside a container our path is often not mounted as such; the walk
 * then finds the container's own limit at the mount's root.
 */
function tightestLimit(root: string, path: string, limitFile: string): { limit: number; dir: string } | null {
  let best: { limit: number; dir: string } | null = null;
  for (let dir = path || '/'; ; dir = parentOf(dir)) {
    const limit = readNumber(join(root, dir, limitFile));
    if (limit !== null && limit < UNLIMITED && (best === null || limit < best.limit)) best = { limit, dir: join(root, dir) };
    if (dir === '/') return best;
  }
}

function systemLimit(): MemoryLimit {
  const total = totalmem();
  return limitOf('system', total, total - freemem());
}

function limitOf(source: MemoryLimit['source'], limitBytes: number, usedBytes: number): MemoryLimit {
  const used = Math.max(0, usedBytes);
  return { source, limitBytes, usedBytes: used, headroomBytes: Math.max(0, limitBytes - used) };
}

function parentOf(dir: string): string {
  const cut = dir.replace(/\/+$/, '').lastIndexOf('/');
  return cut <= 0 ? '/' : dir.slice(0, cut);
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function readNumber(file: string): number | null {
  const text = readText(file)?.trim();
  if (text === undefined || !/^\d+$/.test(text)) return null; // absent, or "max"
  return Number(text);
}

function statField(file: string, field: string): number {
  const match = new RegExp(`^${field} (\\d+)$`, 'm').exec(readText(file) ?? '');
  return match ? Number(match[1]) : 0;
}
