import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { trimStacks } from './stack-trim.js';

const ours = fileURLToPath(new URL('./session.js', import.meta.url));

describe('trimStacks', () => {
  it("keeps the input's frames and the application's, cutting node's machinery and the endpoint's", () => {
    const stack = [
      'Error: rej',
      '    at f (REPL2:1:16)',
      '    at handler (/srv/app/routes.js:10:3)',
      '    at Script.runInContext (node:vm:149:12)',
      `    at evaluateTimed (file://${ours}:19:25)`,
      `    at ${ours}:114:31`,
      '    at REPLServer.onLine (node:repl:924:10)',
      '    at REPLServer.emit (node:domain:489:12)',
      '    at [_onLine] [as _onLine] (node:internal/readline/interface:419:12)',
    ].join('\n');
    expect(trimStacks(stack)).toBe('Error: rej\n    at f (REPL2:1:16)\n    at handler (/srv/app/routes.js:10:3)');
  });

  it('leaves text that holds no stack as it is', () => {
    expect(trimStacks("{ at: 'node:vm' }")).toBe("{ at: 'node:vm' }");
  });
});
