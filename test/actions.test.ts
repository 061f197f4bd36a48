// opsctl actions and opsctl run with the built binary against a real application.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, opsctl, startApp, type RunningApp } from './support/processes.js';

const opsApp = fileURLToPath(new URL('./fixtures/ops-app.mjs', import.meta.url));
let app: RunningApp;
let env: Record<string, string>;
let readerEnv: Record<string, string>;

beforeAll(async () => {
  const [operator, reader] = await Promise.all([mintToken('operator', 'actions'), mintToken('viewer', 'read')]);
  app = await startApp(opsApp, { OPSCTL_TOKENS: `${operator.line};${reader.line}` });
  env = { OPSCTL_URL: app.ops, OPSCTL_TOKEN: operator.token };
  readerEnv = { OPSCTL_URL: app.ops, OPSCTL_TOKEN: reader.token };
});
afterAll(() => app?.stop());

/** The audit events the application wrote on stderr. */
function auditEvents(): { route: string | null; status: number; token: string | null; detail?: Record<string, unknown> }[] {
  return app
    .stderr()
    .split('\n')
    .filter((line) => line.startsWith('{"opsctl":"audit"'))
    .map((line) => JSON.parse(line));
}

describe('opsctl actions', () => {
  it('lists the actions with their parameters', async () => {
    const run = await opsctl(['actions'], { env });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^flush-cache\s+Empties the in-memory cache\.$/m);
    expect(run.stdout).toMatch(/region=eu\|us \(required\)\s+dryRun=true\|false \(default false\)\s+limit=<number>\s+apiKey=<string> \(secret\)/);
    const json = JSON.parse((await opsctl(['actions', '--json'], { env })).stdout);
    expect(json.actions.map((a: { name: string }) => a.name)).toEqual(['flush-cache', 'explode', 'wait', 'stop-indexer']);
    expect(json.actions[0].params.region).toMatchObject({ type: 'enum', values: ['eu', 'us'], required: true });
  });

  it('needs the actions scope: exit 3', async () => {
    const run = await opsctl(['actions'], { env: readerEnv });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/opsctl actions needs a token with the "actions" scope/);
  });
});

describe('opsctl run', () => {
  it('runs an action with key=value parameters, prints its JSON result, and is audited', async () => {
    const run = await opsctl(['run', 'flush-cache', 'region=eu', 'limit=1', 'apiKey=k-9f8e7d'], { env });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ region: 'eu', flushed: 1, dryRun: false });
    expect(run.stderr).toMatch(/flush-cache finished in \d+ ms/);
    const audit = auditEvents().findLast((e) => e.route === '/actions/:name');
    expect(audit).toMatchObject({
      token: 'operator',
      status: 200,
      detail: { action: 'flush-cache', outcome: 'ok', params: { region: 'eu', limit: 1, dryRun: false, apiKey: '[secret]' } },
    });
    expect(app.stderr()).not.toContain('k-9f8e7d');

    const json = JSON.parse((await opsctl(['run', 'flush-cache', 'region=us', 'dryRun=true', '--json'], { env })).stdout);
    expect(json).toMatchObject({ action: 'flush-cache', result: { region: 'us', dryRun: true }, durationMs: expect.any(Number) });
  });

  it('refuses an unknown action with exit 2 and a hint to list them', async () => {
    const run = await opsctl(['run', 'reboot-everything'], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: the application has no action "reboot-everything"/m);
    expect(run.stderr).toMatch(/^hint: list the application's actions: opsctl actions$/m);
  });

  it('refuses invalid parameters with exit 2 naming the parameter, and runs nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['region=mars'], /the parameter "region" must be one of eu, us, not "mars"/],
      [['region=eu', 'limit=lots'], /the parameter "limit" must be a number, not "lots"/],
      [['region=eu', 'dryRun=perhaps'], /the parameter "dryRun" must be true or false/],
      [['limit=1'], /the parameter "region" is required \(which region\)/],
      [['region=eu', 'colour=red'], /no parameter "colour"; it takes region, dryRun, limit, apiKey/],
      [['region=eu', 'apiKey'], /"apiKey" is not a key=value parameter/],
      [['region=eu', 'region=us'], /the parameter "region" is given twice/],
    ];
    const before = auditEvents().filter((e) => e.detail?.['outcome'] === 'ok').length;
    for (const [params, message] of cases) {
      const run = await opsctl(['run', 'flush-cache', ...params], { env });
      expect(run.code, params.join(' ')).toBe(2);
      expect(run.stderr).toMatch(message);
    }
    expect(auditEvents().filter((e) => e.detail?.['outcome'] === 'ok').length).toBe(before);
  });

  it('reports an action that throws with its message and exit 1, and the application goes on', async () => {
    const run = await opsctl(['run', 'explode'], { env });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: the action "explode" failed: the cache is locked by another deploy$/m);
    expect(run.stdout).toBe('');
    expect(auditEvents().findLast((e) => e.route === '/actions/:name')).toMatchObject({
      status: 422,
      detail: { outcome: 'failed', error: 'the cache is locked by another deploy' },
    });
    expect(app.child.exitCode).toBeNull();
    expect((await fetch(app.app)).status).toBe(200);
    expect((await opsctl(['run', 'wait', 'ms=10'], { env })).code).toBe(0);
  });

  it('reports an action past its time limit with exit 1; one that heeds its signal frees its slot at once', async () => {
    const run = await opsctl(['run', 'wait', 'ms=5000'], { env });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/did not finish within 1000 ms/);
    expect(run.stderr).toMatch(/^hint: it may still be running/m);
    // The slot is held until the action settles; `wait` stops when its signal aborts.
    expect((await opsctl(['run', 'wait', 'ms=10'], { env })).code).toBe(0);
  });
});
