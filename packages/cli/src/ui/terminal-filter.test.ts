import { describe, expect, it } from 'vitest';
import { TerminalFilter } from './terminal-filter.js';

/** Feeds the text one character per chunk: the hardest split for a filter. */
function byCharacter(text: string): string {
  const filter = new TerminalFilter();
  return [...text].map((char) => filter.push(char)).join('');
}

describe('TerminalFilter', () => {
  it('keeps what a REPL draws with: text, CR, LF, colours, cursor moves and erases', () => {
    const drawn = '\u001b[1G\u001b[0J> \u001b[33m1\u001b[39m\r\n\u001b[3D\u001b[?2004h\u0007';
    expect(new TerminalFilter().push(drawn)).toBe(drawn);
    expect(byCharacter(drawn)).toBe(drawn);
  });

  it('drops titles, clipboard writes, DCS strings, window operations, C1 sequences and bidi overrides, even split', () => {
    const evil = 'a\u001b]0;title\u0007b\u001b]52;c;Y2xpcA==\u001b\\c\u001bPq#0\u001b\\d\u001b[21te\u009b2Jf\u009d0;x\u0007g\u202eh';
    expect(new TerminalFilter().push(evil)).toBe('abcdefgh');
    expect(byCharacter(evil)).toBe('abcdefgh');
  });
});
