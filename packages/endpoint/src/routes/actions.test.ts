import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audited, bearer, jsonOf, startEndpoint, type TestEndpoint } from '../../test-support/index.js';
import type { ActionsResponse } from '../protocol/index.js';

let ep: TestEndpoint;
let unblock: () => void = () => {};
let sawAbort = false;
let wedgeRuns = 0;
let finishLinger: (value: string) => void = () => {};
let lingerStarted: () => void = () => {};
const lingerStarts = () => new Promise<void>((resolve) => (lingerStarted = resolve));
beforeAll(async () => {
  ep = await startEndpoint(
    {
      actions: {
        greet: {
          description: 'Greets someone.',
          params: { name: { type: 'string', required: true }, times: { type: 'number', default: 1 }, token: { type: 'string', secret: true } },
          run: ({ name, times }, { caller }) => ({ greeting: `hello ${String(name)}`.repeat(Number(times)), caller, at: new Date(0) }),
        },
        explode: {
          description: 'Fails the way applications fail.',
          run: async () => {
            throw Object.assign(new Error('the cache is locked'), { code: 'ELOCKED' });
          },
        },
        hold: { description: 'Runs until released.', run: () => new Promise<string>((resolve) => (unblock = () => resolve('released'))) },
        stall: {
          description: 'Never finishes in time.',
          timeoutMs: 200,
          run: (_params, { signal }) => new Promise(() => signal.addEventListener('abort', () => (sawAbort = true))),
        },
        unserialisable: { description: 'Returns a BigInt.', run: () => 1n },
        huge: { description: 'Returns 17 MiB of text.', run: () => 'x'.repeat(17 * 1024 * 1024) },
        withFunction: { description: 'Returns an object with a function in it.', run: () => ({ ok: true, call: () => 1 }) },
        wedge: {
          description: 'Never settles, whatever its signal says.',
          timeoutMs: 100,
          run: () => {
            wedgeRuns++;
            return new Promise(() => {});
          },
        },
        linger: {
          description: 'Settles when the test says, long after its time limit.',
          timeoutMs: 100,
          run: () => {
            lingerStarted();
            return new Promise<string>((resolve) => (finishLinger = resolve));
          },
        },
      },
    },
    { operator: ['actions'], reader: ['read'] },
  );
});
afterAll(() => ep.close());

const run = (name: string, body?: unknown, token = ep.tokens['operator']) =>
  fetch(`${ep.url}/actions/${name}`, {
    method: 'POST',
    headers: { ...bearer(token), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

describe('GET /actions', () => {
  it('lists the actions with their parameter schemas', async () => {
    const res = await fetch(`${ep.url}/actions`, { headers: bearer(ep.tokens['operator']) });
    expect(res.status).toBe(200);
    const body = (await jsonOf(res)) as ActionsResponse;
    expect(body.actions.map((a) => a.name)).toEqual(['greet', 'explode', 'hold', 'stall', 'unserialisable', 'huge', 'withFunction', 'wedge', 'linger']);
    expect(body.actions[0]).toEqual({
      name: 'greet',
      description: 'Greets someone.',
      params: {
        name: { type: 'string', description: null, required: true, secret: false },
        times: { type: 'number', description: null, required: false, default: 1, secret: false },
        token: { type: 'string', description: null, required: false, secret: true },
      },
      timeoutMs: 30_000,
      concurrency: 1,
    });
  });

  it('needs the actions scope', async () => {
    const res = await fetch(`${ep.url}/actions`, { headers: bearer(ep.tokens['reader']) });
    expect(res.status).toBe(403);
  });

  it('is off when the application defines no actions', async () => {
    const off = await startEndpoint();
    try {
      const res = await fetch(`${off.url}/actions/greet`, { method: 'POST', headers: bearer(off.tokens['admin']) });
      expect(res.status).toBe(404);
      expect((await jsonOf(res)).error.code).toBe('FEATURE_DISABLED');
    } finally {
      await off.close();
    }
  });
});

describe('POST /actions/:name', () => {
  it('runs an action with typed parameters and answers its result as JSON, audited with the parameters', async () => {
    const res = await run('greet', { params: { name: 'Ada', times: '2', token: 's3cret' } });
    expect(res.status).toBe(200);
    expect(await jsonOf(res)).toEqual({
      action: 'greet',
      result: { greeting: 'hello Adahello Ada', caller: 'operator', at: '1970-01-01T00:00:00.000Z' },
      durationMs: expect.any(Number),
    });
    const audit = await audited(ep, (e) => e.route === '/actions/:name' && e.detail?.['outcome'] === 'ok');
    expect(audit).toMatchObject({
      token: 'operator',
      status: 200,
      detail: { action: 'greet', outcome: 'ok', params: { name: 'Ada', times: 2, token: '[secret]' } },
    });
    expect(JSON.stringify(ep.events)).not.toContain('s3cret');
  });

  it('answers an unknown action with 404 UNKNOWN_ACTION', async () => {
    const res = await run('nope');
    expect(res.status).toBe(404);
    expect((await jsonOf(res)).error).toMatchObject({ code: 'UNKNOWN_ACTION', details: { action: 'nope' } });
  });

  it('refuses bad parameters with 400 naming the parameter, before running anything', async () => {
    for (const [params, param] of [
      [{}, 'name'],
      [{ name: 'x', times: 'many' }, 'times'],
      [{ name: 'x', colour: 'red' }, 'colour'],
    ] as const) {
      const res = await run('greet', { params });
      expect(res.status).toBe(400);
      const body = await jsonOf(res);
      expect(body.error).toMatchObject({ code: 'BAD_PARAM', details: { action: 'greet', param } });
      expect(body.error.message).toContain(`"${param}"`);
    }
    expect((await run('greet', { name: 'x' })).status).toBe(400); // parameters outside "params"
  });

  it('answers an action that throws with 422 ACTION_FAILED and its message, and the endpoint goes on', async () => {
    const res = await run('explode');
    expect(res.status).toBe(422);
    expect((await jsonOf(res)).error).toEqual({
      code: 'ACTION_FAILED',
      message: 'The action "explode" failed: the cache is locked',
      details: { action: 'explode', error: { name: 'Error', code: 'ELOCKED' } },
    });
    expect((await audited(ep, (e) => e.route === '/actions/:name' && e.detail?.['outcome'] === 'failed')).detail).toMatchObject({
      outcome: 'failed',
      error: 'the cache is locked',
    });
    expect((await run('greet', { params: { name: 'again' } })).status).toBe(200);
  });

  it("answers 504 ACTION_TIMEOUT after the time limit and aborts the action's signal", async () => {
    const res = await run('stall');
    expect(res.status).toBe(504);
    expect((await jsonOf(res)).error.code).toBe('ACTION_TIMEOUT');
    expect(sawAbort).toBe(true);
  });

  it('answers a result JSON cannot carry with 422', async () => {
    const res = await run('unserialisable');
    expect(res.status).toBe(422);
    expect((await jsonOf(res)).error.message).toMatch(/cannot be sent as JSON/);
  });

  it('answers a result over 16 MiB of JSON with 422, saying to return a file path instead', async () => {
    const res = await run('huge');
    expect(res.status).toBe(422);
    expect((await jsonOf(res)).error.message).toMatch(/17\.0 MiB of JSON, over the 16 MiB a result may be; .* write a file and return its path/);
  });

  it('answers what JSON makes of a function in a result (it leaves it out), as a caller of the action would get it', async () => {
    const res = await run('withFunction');
    expect(res.status).toBe(200);
    expect(await jsonOf(res)).toEqual({ action: 'withFunction', result: { ok: true }, durationMs: expect.any(Number) });
  });

  it('refuses a second run of a busy action with 429 and Retry-After, and admits it once free', async () => {
    const first = run('hold');
    await new Promise((r) => setTimeout(r, 100));
    const second = await run('hold');
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('5');
    expect((await jsonOf(second)).error.code).toBe('BUSY');
    unblock();
    expect(await (await first).json()).toMatchObject({ result: 'released' });
    const third = run('hold');
    await new Promise((r) => setTimeout(r, 100));
    unblock();
    expect((await third).status).toBe(200);
  });

  it('keeps the slot of a run past its time limit until the action settles: a never-settling action runs once', async () => {
    expect((await run('wedge')).status).toBe(504);
    for (let i = 0; i < 2; i++) {
      const again = await run('wedge');
      expect(again.status).toBe(429);
      expect((await jsonOf(again)).error.code).toBe('BUSY');
    }
    expect(wedgeRuns).toBe(1);
  });

  it('frees the slot when the action settles, not when its caller times out or goes away', async () => {
    expect((await run('linger')).status).toBe(504);
    expect((await run('linger')).status).toBe(429);
    finishLinger('late');
    await new Promise((r) => setTimeout(r, 20));
    // A caller that goes away: the action runs on, and holds the slot.
    const gone = new AbortController();
    const started = lingerStarts();
    const abandoned = fetch(`${ep.url}/actions/linger`, { method: 'POST', headers: bearer(ep.tokens['operator']), signal: gone.signal }).catch(() => null);
    await started;
    gone.abort();
    await abandoned;
    await new Promise((r) => setTimeout(r, 50));
    expect((await run('linger')).status).toBe(429);
    finishLinger('late');
    await new Promise((r) => setTimeout(r, 20));
    const restarted = lingerStarts();
    const admitted = run('linger');
    await restarted;
    finishLinger('in time');
    expect(await jsonOf(await admitted)).toMatchObject({ result: 'in time' });
  });
});
