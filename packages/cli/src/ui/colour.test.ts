import { describe, expect, it } from 'vitest';
import { colourLevel } from './colour.js';

const tty = { env: {}, isTTY: true, noColorFlag: false, machine: false };

describe('colourLevel', () => {
  it('colours a terminal and nothing else', () => {
    expect(colourLevel(tty)).toBeGreaterThan(0);
    expect(colourLevel({ ...tty, isTTY: false })).toBe(0);
  });

  it('honours NO_COLOR on a terminal, which chalk alone would not', () => {
    expect(colourLevel({ ...tty, env: { NO_COLOR: '1' } })).toBe(0);
    expect(colourLevel({ ...tty, env: { NO_COLOR: '' } })).toBeGreaterThan(0);
  });

  it('honours --no-color and never colours --json output', () => {
    expect(colourLevel({ ...tty, noColorFlag: true })).toBe(0);
    expect(colourLevel({ ...tty, machine: true, env: { FORCE_COLOR: '3' } })).toBe(0);
  });

  it('lets FORCE_COLOR colour a pipe, and NO_COLOR win over it', () => {
    expect(colourLevel({ ...tty, isTTY: false, env: { FORCE_COLOR: '1' } })).toBe(1);
    expect(colourLevel({ ...tty, env: { FORCE_COLOR: '0' } })).toBe(0);
    expect(colourLevel({ ...tty, env: { FORCE_COLOR: '1', NO_COLOR: '1' } })).toBe(0);
  });

  it('reads the terminal depth from TERM and COLORTERM', () => {
    expect(colourLevel({ ...tty, env: { TERM: 'xterm-256color' } })).toBe(2);
    expect(colourLevel({ ...tty, env: { COLORTERM: 'truecolor' } })).toBe(3);
    expect(colourLevel({ ...tty, env: { TERM: 'dumb' } })).toBe(0);
  });
});
