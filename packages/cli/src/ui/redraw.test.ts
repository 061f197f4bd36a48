import { describe, expect, it } from 'vitest';
import { InPlaceFrame } from './redraw.js';

describe('InPlaceFrame', () => {
  it('erases exactly the rows the previous frame took, wrapped lines and colours counted as they show', () => {
    let columns = 10;
    const screen = new InPlaceFrame(() => columns);
    expect(screen.next('one\ntwo')).toBe('one\ntwo\n');
    // Two short lines: two rows up.
    expect(screen.next(`\u001b[31m${'x'.repeat(10)}\u001b[39m\n${'y'.repeat(11)}`)).toBe(
      `\u001b[2A\u001b[J\u001b[31m${'x'.repeat(10)}\u001b[39m\n${'y'.repeat(11)}\n`,
    );
    // 10 characters in colour take one row; 11 wrap onto two.
    columns = 80;
    expect(screen.next('z').startsWith('\u001b[3A\u001b[J')).toBe(true);
  });
});
