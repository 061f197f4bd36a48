// Renders who holds what grows (heapsnapshot/retainers.ts): per class, its clusters of
// retainer paths, the way DevTools' Retainers pane reads, root first:
//   Node / Environment → … → system / Context → leaked (Array) → [666] → LeakyThing
// A named edge prints as "name (Class)", an index as "[i] → Class". Long paths keep their
// first step and their end from the closure context that names the variable (or the few
// steps above the holder); --json has every step.
import type { ChalkInstance } from 'chalk';
import type { HolderClass, PathStep, RetainerPath } from '../heapsnapshot/index.js';
import { formatBytes, formatCount } from './format.js';

// Steps kept before the holder when no closure context names it.
const STEPS_ABOVE_HOLDER = 3;
// Paths of up to this many steps print whole.
const SHORT_PATH = 6;

/** The section under a report: each traced class, then its paths; `file` is the snapshot the paths are in. */
export function renderHolders(classes: readonly HolderClass[], file: string, c: ChalkInstance): string[] {
  const traced = classes.filter((row) => row.retainers.length > 0);
  if (traced.length === 0) return [];
  const lines = [
    '',
    c.dim(`who holds them in ${file}: per path from a root, the objects it leads to (with what they own) and their bytes; the holder is where the paths meet`),
  ];
  for (const row of traced) {
    const own = `${formatCount(row.count)} new (${formatBytes(row.selfSize)})`;
    const owned = `${objects(row.held.count)} they own (${formatBytes(row.held.selfSize)})`;
    const heldOnly = `no new ${row.name}, but ${formatCount(row.held.count)} new objects it owns (${formatBytes(row.held.selfSize)})`;
    lines.push('', `${c.bold(row.name)}: ${row.count === 0 ? heldOnly : row.held.count === 0 ? own : `${own}, and ${owned}`}`);
    for (const path of row.retainers) lines.push(...renderPath(path, c));
    if (row.morePaths > 0) lines.push(c.dim(`  … and ${formatCount(row.morePaths)} more paths (in --json too: the top ones only)`));
  }
  return lines;
}

function renderPath(path: RetainerPath, c: ChalkInstance): string[] {
  const amount = `${objects(path.count)}, ${formatBytes(path.selfSize)}`;
  if (path.origin === 'unreachable') return [`  ${amount}: ${c.dim('reached by no strong path (only weak references): gone at the next GC')}`];
  if (path.origin === 'internal')
    return [`  ${amount}: ${c.dim(`held only by V8's own tables (${path.path.map(label).join(' → ')}): no retainer in the program`)}`];
  const holderAt = path.holder === null ? -1 : path.path.findIndex((step) => step.id === path.holder?.id);
  const lines = [`  ${amount}: ${steps(path.path, holderAt, c)}`];
  const holder = path.holder;
  if (holder !== null) {
    const name = holder.edge === null ? `${holder.class} @${holder.id}` : `${holder.edge} (${holder.class} @${holder.id})`;
    const retains = holder.retainedSize === null ? '' : `, retains ${c.yellow(formatBytes(holder.retainedSize))}`;
    lines.push(`    holder: ${c.bold(name)}${retains}`);
  }
  return lines;
}

/** The steps as text, the middle of a long path left out. */
function steps(path: readonly PathStep[], holderAt: number, c: ChalkInstance): string {
  const last = path.length - 1;
  const anchor = holderAt === -1 ? last : holderAt;
  // Start at the closure context whose variable leads to the holder, if any.
  let context = -1;
  for (let i = anchor; i > 0; i--) {
    if ((path[i] as PathStep).edgeType === 'context') {
      context = i - 1;
      break;
    }
  }
  const from = path.length <= SHORT_PATH ? 0 : Math.max(1, context === -1 ? anchor - STEPS_ABOVE_HOLDER : context);
  const shown = path.map((step, i) => {
    const text =
      i === 0 || i === from
        ? label(step)
        : step.edge === null || step.edge.startsWith('[')
          ? `${step.edge ?? ''} → ${label(step)}`
          : `${step.edge} (${label(step)})`;
    const repeated = step.times > 1 ? `${text} ×${formatCount(step.times)}` : text;
    return i === holderAt ? c.bold(repeated) : repeated;
  });
  return from <= 1 ? shown.join(' → ') : `${shown[0]} → … → ${shown.slice(from).join(' → ')}`;
}

function objects(count: number): string {
  return `${formatCount(count)} ${count === 1 ? 'object' : 'objects'}`;
}

/** A node in a path: its class, or for V8's and the embedder's own nodes their name (system / Context, Node / Environment). */
function label(step: PathStep): string {
  return step.class.startsWith('(') && step.name !== null && step.name !== '' ? step.name : step.class;
}
