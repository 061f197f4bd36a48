import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { LINE_INTERVAL_MS, lineSpinner, progressMode } from './progress.js';

const chalk = new Chalk({ level: 0 });

describe('progressMode', () => {
  it('is a spinner on a terminal of known width, lines on one of 0 or unknown width, and nothing off a terminal or with --json', () => {
    expect(progressMode({ write: () => true, isTTY: true, columns: 80 }, {}, false)).toBe('spinner');
    expect(progressMode({ write: () => true, isTTY: true, columns: 0 }, {}, false)).toBe('lines');
    expect(progressMode({ write: () => true, isTTY: true }, {}, false)).toBe('lines');
    expect(progressMode({ write: () => true, isTTY: true, columns: 80 }, { TERM: 'dumb' }, false)).toBe('lines');
    expect(progressMode({ write: () => true, isTTY: false, columns: 80 }, {}, false)).toBe('none');
    expect(progressMode({ write: () => true, isTTY: true, columns: 80 }, {}, true)).toBe('none');
  });
});

describe('lineSpinner', () => {
  it('writes a new phase at once and the same phase with new numbers at most once per interval', () => {
    let now = 0;
    const lines: string[] = [];
    const spinner = lineSpinner({ write: (text: string) => lines.push(text) }, chalk, 'requesting…', () => now);
    for (let received = 1; received <= 10_000; received++) {
      now += 10; // 100 s of updates, one every 10 ms
      spinner.text(`downloading ${received} KB`);
    }
    spinner.text('verifying…');
    spinner.succeed('done');
    expect(lines[0]).toBe('requesting…\n');
    expect(lines[1]).toBe('downloading 1 KB\n');
    expect(lines.at(-2)).toBe('verifying…\n');
    expect(lines.at(-1)).toBe('✔ done\n');
    // 100 s of one phase: a line per interval, not per update.
    expect(lines.filter((line) => line.startsWith('downloading'))).toHaveLength(Math.floor((100_000 - 10) / LINE_INTERVAL_MS) + 1);
  });

  it('writes nothing after it stopped', () => {
    const lines: string[] = [];
    const spinner = lineSpinner({ write: (text: string) => lines.push(text) }, chalk, 'a');
    spinner.stop();
    spinner.text('b');
    spinner.fail('c');
    expect(lines).toEqual(['a\n']);
  });
});
