// judgeLeak on recorded runs: what the leak monitor saw in scenario apps under 300 req/s
// of HTTP load, Node 20 and 24, 300 s each (recorded by scripts/record-leak-runs.mjs; see
// docs/leak-detection.md). Each run is replayed as a watcher polling every 5 s would
// have judged it, from the monitor's start.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { LeakLevel } from '../protocol/leaks.js';
import { judgeLeak, type JudgedSample } from './leak-verdict.js';

const DIR = new URL('./recordings/', import.meta.url);

/** The scenario app's modes that leak (test/fixtures/leak-app.mjs); the others never do. */
const LEAKING_MODES = new Set(['leak', 'buffer', 'closure']);

interface Recording {
  name: string;
  node: string;
  leaks: boolean;
  samples: (JudgedSample & { forced: boolean })[];
}

/** A recording: its header, then samples `{ t, heapUsed, external, forced }` (t: seconds since the monitor began), and live verdicts. */
function load(file: string): Recording {
  const lines = readFileSync(new URL(file, DIR), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const header = lines[0] as { type: string; node: string; MODE: string };
  expect(header.type).toBe('recording');
  const samples = lines
    .filter((l) => l['type'] === undefined)
    .map((l) => ({ time: Number(l['t']) * 1000, heapUsed: Number(l['heapUsed']), external: Number(l['external']), forced: l['forced'] === true }));
  return { name: file.replace(/\.ndjson$/, ''), node: header.node, leaks: LEAKING_MODES.has(header.MODE), samples };
}

const recordings = readdirSync(DIR)
  .filter((f) => f.endsWith('.ndjson'))
  .sort()
  .map(load);

/** The verdict after `seconds` of process time. */
function verdictAt(recording: Recording, seconds: number): LeakLevel {
  return judgeLeak(
    recording.samples.filter((s) => s.time <= seconds * 1000),
    {},
    { since: 0 },
  ).verdict;
}

/**
 * What each run is called at 60, 120 and 300 s. A leak is `growing` by 60 s and `suspected`
 * by 120 s where the monitor could force the samples it needed; where it could not, later,
 * and never anything that is not a leak. Where the recordings fall short of that:
 * - closure-512kb.node24: the sample that would have confirmed at 112.5 s was refused (a heap
 *   of closures marked at ~7 ms per MiB under load: over the 500 ms cap); suspected at 145 s;
 * - leak-1mb.node24: past 150 s its heap is too large to force a GC, and V8 ran none from
 *   153 s to 260 s: with a single point in the window's later half it says `growing` again
 *   at 255-260 s (not asserted here; suspected at 115 s and at 300 s);
 * - unforced-leak-1mb.node24: no forced GC at all (12 of V8's own in 300 s): suspected at 155 s;
 * - big-steady.node24: a 400 MB heap (no forced GC fits the cap) and 2 major GCs in 300 s:
 *   `unknown` throughout, which is what there is to say.
 */
const EXPECTED: Record<string, readonly [LeakLevel, LeakLevel, LeakLevel]> = {
  'leak-1mb.node20': ['growing', 'suspected', 'suspected'],
  'leak-1mb.node24': ['growing', 'suspected', 'suspected'],
  'leak-100kb.node20': ['growing', 'suspected', 'suspected'],
  'leak-100kb.node24': ['growing', 'suspected', 'suspected'],
  'buffer-100kb.node20': ['growing', 'suspected', 'suspected'],
  'buffer-100kb.node24': ['growing', 'suspected', 'suspected'],
  'closure-512kb.node20': ['growing', 'suspected', 'suspected'],
  'closure-512kb.node24': ['growing', 'growing', 'suspected'],
  'unforced-leak-1mb.node24': ['unknown', 'unknown', 'suspected'],
  // A bounded cache filling for 80 s, then churning at its bound.
  'cache.node20': ['growing', 'growing', 'growing'],
  'cache.node24': ['growing', 'growing', 'ok'],
  // A one-time 20 MB table at 100 s.
  'step.node20': ['ok', 'ok', 'ok'],
  'step.node24': ['ok', 'ok', 'ok'],
  // Two tables built lazily, at 15 and 40 s.
  'lazy.node20': ['ok', 'ok', 'ok'],
  'lazy.node24': ['ok', 'ok', 'ok'],
  // 15 MB × ln(1 + t / 10 s).
  'log.node20': ['growing', 'growing', 'growing'],
  'log.node24': ['growing', 'growing', 'growing'],
  // 20 MB built over 60 s, then dropped, again and again.
  'sawtooth.node20': ['growing', 'ok', 'ok'],
  'sawtooth.node24': ['growing', 'ok', 'ok'],
  'steady.node20': ['ok', 'ok', 'ok'],
  'steady.node24': ['ok', 'ok', 'ok'],
  'big-steady.node24': ['unknown', 'unknown', 'unknown'],
};

describe('judgeLeak on recorded runs', () => {
  it('has an expectation for every recording, from Node 20 and 24, one with sparse GCs among them', () => {
    expect(recordings.map((r) => r.name).sort()).toEqual(Object.keys(EXPECTED).sort());
    expect(new Set(recordings.map((r) => r.node.split('.')[0]))).toEqual(new Set(['v20', 'v24']));
    // Sparse: no forced GC at all, V8's own major GCs alone, a minute apart or more at times.
    const sparse = recordings.filter(
      (r) => r.samples.every((s) => !s.forced) && r.samples.some((s, i) => i > 0 && s.time - (r.samples[i - 1]?.time ?? 0) >= 60_000),
    );
    expect(sparse.map((r) => r.name)).not.toEqual([]);
  });

  for (const recording of recordings) {
    const expected = EXPECTED[recording.name];
    it(`calls ${recording.name} ${expected?.join(', ') ?? '(no expectation)'} at 60, 120 and 300 s`, () => {
      expect([verdictAt(recording, 60), verdictAt(recording, 120), verdictAt(recording, 300)]).toEqual(expected);
    });
  }

  it('never suspects a run without a leak, at any 5 s poll', () => {
    expect(recordings.filter((r) => !r.leaks).length).toBeGreaterThanOrEqual(12);
    for (const recording of recordings.filter((r) => !r.leaks)) {
      const suspectedAt = [];
      for (let t = 5; t <= 300; t += 5) if (verdictAt(recording, t) === 'suspected') suspectedAt.push(t);
      expect({ run: recording.name, suspectedAt }).toEqual({ run: recording.name, suspectedAt: [] });
    }
  });
});
