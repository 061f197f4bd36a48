import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEndpoint, type TestEndpoint } from '../../../endpoint/test-support/index.js';
import { runCli } from '../../test-support/index.js';
import { parseAssignments } from './run.js';

let ep: TestEndpoint;
let env: Record<string, string>;
beforeAll(async () => {
  ep = await startEndpoint(
    {
      actions: {
        'warm-cache': {
          description: 'Loads the hot keys.',
          params: { keys: { type: 'number', required: true }, tier: { type: 'enum', values: ['l1', 'l2'], default: 'l1' } },
          run: ({ keys, tier }) => ({ loaded: keys, tier }),
        },
        noop: { description: 'Does nothing.', run: () => undefined },
      },
    },
    { operator: ['actions'] },
  );
  env = { OPSCTL_URL: ep.url, OPSCTL_TOKEN: ep.tokens['operator'] ?? '' };
});
afterAll(() => ep.close());

describe('opsctl actions', () => {
  for (const tty of [false, true]) {
    it(`lists actions and their parameters (${tty ? 'terminal' : 'pipe'})`, async () => {
      const run = await runCli(['actions'], { env, tty });
      expect(run.code).toBe(0);
      const plain = run.stdout.replace(/\u001b\[[0-9;]*m/g, '');
      expect(plain).toMatch(/^warm-cache {2}Loads the hot keys\.\n {12}keys=<number> \(required\) {2}tier=l1\|l2 \(default l1\)\nnoop {8}Does nothing\.$/m);
      expect(run.stdout.includes('\u001b[')).toBe(tty);
    });
  }
});

describe('opsctl run', () => {
  it('prints the result as JSON on stdout and the duration on stderr', async () => {
    const run = await runCli(['run', 'warm-cache', 'keys=100', 'tier=l2'], { env });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ loaded: 100, tier: 'l2' });
    expect(run.stderr).toMatch(/^warm-cache finished in \d+ ms\n$/);
  });

  it('prints null for an action that returns nothing, and only JSON with --json', async () => {
    expect((await runCli(['run', 'noop'], { env })).stdout).toBe('null\n');
    const json = await runCli(['run', 'noop', '--json'], { env });
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toMatchObject({ action: 'noop', result: null });
  });

  it('names the action\'s own parameter for a word without "=", not the word as a key', async () => {
    const run = await runCli(['run', 'warm-cache', '100'], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^hint: write parameters as key=value, e.g. opsctl run warm-cache keys=100; warm-cache takes keys, tier$/m);
    const second = await runCli(['run', 'warm-cache', 'keys=100', 'l2'], { env });
    expect(second.stderr).toMatch(/e\.g\. opsctl run warm-cache tier=l2;/);
    expect((await runCli(['run', 'warm-cache', 'keys=1', 'tier'], { env })).stderr).toMatch(/e\.g\. opsctl run warm-cache tier=VALUE;/);
    expect((await runCli(['run', 'noop', 'now'], { env })).stderr).toMatch(/^hint: noop takes no parameters: opsctl run noop$/m);
  });

  it('exits 2 for a name that cannot be an action, before asking the endpoint', async () => {
    const run = await runCli(['run', '../admin'], { env: { ...env, OPSCTL_URL: 'http://127.0.0.1:1' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/"\.\.\/admin" is not an action name/);
  });
});

describe('parseAssignments', () => {
  it('splits at the first "=", keeping empty values and later "="s', () => {
    expect(parseAssignments('flush', ['a=1', 'b=', 'c=x=y'])).toEqual({ a: '1', b: '', c: 'x=y' });
  });

  it('refuses words without a key, and keys given twice', () => {
    expect(() => parseAssignments('flush', ['=1'])).toThrow(/not a key=value parameter/);
    expect(() => parseAssignments('flush', ['flag'])).toThrow(/not a key=value parameter/);
    expect(() => parseAssignments('flush', ['a=1', 'a=2'])).toThrow(/given twice/);
  });
});
