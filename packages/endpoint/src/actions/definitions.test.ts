import { describe, expect, it } from 'vitest';
import { auditParams, parseActionParams, resolveActions, type ResolvedAction } from './definitions.js';

function resolve(input: unknown): { actions: ReadonlyMap<string, ResolvedAction>; problems: string[] } {
  const problems: string[] = [];
  return { actions: resolveActions(input, problems), problems };
}

const { actions } = resolve({
  reindex: {
    description: 'Rebuilds the search index.',
    params: {
      index: { type: 'string', required: true, description: 'which index' },
      batch: { type: 'number', default: 100 },
      dryRun: { type: 'boolean', default: false },
      mode: { type: 'enum', values: ['fast', 'full'], default: 'fast' },
      apiKey: { type: 'string', secret: true },
    },
    run: () => null,
  },
});
const reindex = actions.get('reindex') as ResolvedAction;

describe('resolveActions', () => {
  it('accepts a well-formed definition with defaults for the time limit and concurrency', () => {
    expect(reindex).toMatchObject({ name: 'reindex', timeoutMs: 30_000, concurrency: 1 });
  });

  it('reports every problem of bad definitions at once', () => {
    const { problems } = resolve({
      'bad name!': { description: 'x', run: () => null },
      nodesc: { run: () => null },
      norun: { description: 'x' },
      slow: { description: 'x', run: () => null, timeoutMs: 3_600_000 },
      params: {
        description: 'x',
        run: () => null,
        params: {
          'a=b': { type: 'string' },
          kind: { type: 'date' },
          choice: { type: 'enum' },
          both: { type: 'number', required: true, default: 1 },
          wrong: { type: 'number', default: 'many' },
          off: { type: 'enum', values: ['a'], default: 'b' },
        },
      },
    });
    const text = problems.join('\n');
    expect(text).toMatch(/actions\["bad name!"\]`: an action's name/);
    expect(text).toMatch(/nodesc"\]`\.description/);
    expect(text).toMatch(/norun"\]`\.run must be a function/);
    expect(text).toMatch(/slow"\]`\.timeoutMs/);
    expect(text).toMatch(/params\.a=b: a parameter's name/);
    expect(text).toMatch(/params\.kind\.type must be one of string, number, boolean, enum/);
    expect(text).toMatch(/params\.choice\.values must list/);
    expect(text).toMatch(/params\.both is required and has a default/);
    expect(text).toMatch(/params\.wrong\.default must be a number/);
    expect(text).toMatch(/params\.off\.default must be one of a/);
    expect(problems).toHaveLength(10);
  });

  it('refuses something other than an object of actions', () => {
    expect(resolve([]).problems).toEqual([expect.stringMatching(/must be an object of named actions/)]);
  });
});

describe('parseActionParams', () => {
  it('types values, taking numbers and booleans from strings, and fills in defaults', () => {
    expect(parseActionParams(reindex, { index: 'orders', batch: '250', dryRun: 'true' })).toEqual({
      ok: true,
      params: { index: 'orders', batch: 250, dryRun: true, mode: 'fast', apiKey: undefined },
    });
    expect(parseActionParams(reindex, { index: 'orders', batch: 5, dryRun: false, mode: 'full' })).toMatchObject({
      ok: true,
      params: { batch: 5, dryRun: false, mode: 'full' },
    });
  });

  it('names the parameter that is missing, unknown or of the wrong type', () => {
    expect(parseActionParams(reindex, {})).toMatchObject({ ok: false, param: 'index', message: 'The parameter "index" is required (which index).' });
    expect(parseActionParams(reindex, { index: 'x', size: 1 })).toMatchObject({
      ok: false,
      param: 'size',
      message: expect.stringMatching(/no parameter "size"; it takes index, batch, dryRun, mode, apiKey/),
    });
    expect(parseActionParams(reindex, { index: 'x', batch: 'lots' })).toMatchObject({
      ok: false,
      param: 'batch',
      message: 'The parameter "batch" must be a number, not "lots".',
    });
    expect(parseActionParams(reindex, { index: 'x', batch: '' })).toMatchObject({ ok: false, param: 'batch' });
    expect(parseActionParams(reindex, { index: 'x', dryRun: 'maybe' })).toMatchObject({
      ok: false,
      param: 'dryRun',
      message: expect.stringMatching(/true or false/),
    });
    expect(parseActionParams(reindex, { index: 'x', mode: 'slow' })).toMatchObject({
      ok: false,
      param: 'mode',
      message: expect.stringMatching(/one of fast, full, not "slow"/),
    });
    expect(parseActionParams(reindex, { index: 7 })).toMatchObject({ ok: false, param: 'index', message: expect.stringMatching(/a string/) });
  });

  it('never quotes the value of a secret parameter', () => {
    const parsed = parseActionParams(reindex, { index: 'x', apiKey: 12345 });
    expect(parsed).toMatchObject({ ok: false, param: 'apiKey' });
    expect(JSON.stringify(parsed)).not.toContain('12345');
  });

  it('refuses params that are not an object', () => {
    expect(parseActionParams(reindex, ['index'])).toMatchObject({ ok: false, param: null });
  });
});

describe('auditParams', () => {
  it('hides secrets and cuts long values', () => {
    const parsed = parseActionParams(reindex, { index: 'i'.repeat(500), apiKey: 'k-123' });
    if (!parsed.ok) throw new Error(parsed.message);
    const shown = auditParams(reindex, parsed.params);
    expect(shown['apiKey']).toBe('[secret]');
    expect(String(shown['index'])).toHaveLength(201);
    expect(shown['batch']).toBe(100);
  });
});
