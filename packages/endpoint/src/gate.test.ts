import { describe, expect, it } from 'vitest';
import { Gate } from './gate.js';

describe('Gate', () => {
  it('admits up to max at once and refuses the next at once', () => {
    const gate = new Gate({ max: 1, retryAfterSeconds: 30, busyMessage: 'busy' });
    const release = gate.tryEnter();
    expect(release).toBeTypeOf('function');
    expect(gate.tryEnter()).toBeNull();
    release?.();
    expect(gate.tryEnter()).not.toBeNull();
  });

  it('ignores a second release of the same admission', () => {
    const gate = new Gate({ max: 2, retryAfterSeconds: 1, busyMessage: 'busy' });
    const first = gate.tryEnter();
    gate.tryEnter();
    first?.();
    first?.();
    expect(gate.active).toBe(1);
  });
});
