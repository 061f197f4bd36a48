import { describe, expect, it } from 'vitest';
import { describeRefusal } from './refusals.js';

const facts = (details?: Record<string, unknown>) => ({ url: new URL('http://127.0.0.1:9500'), retryAfterSeconds: null, details });
const HTTP_WORDS = /\b(GET|POST)\b|skipMemoryCheck|=true|\bparameter (seconds|timeoutMs|intervalUs)\b|\/actions|\/snapshots|\/workers/;

describe('describeRefusal', () => {
  it('speaks of --skip-memory-check and decimal sizes for LOW_MEMORY', () => {
    const refusal = describeRefusal(
      'LOW_MEMORY',
      'A heap snapshot would need about 300 MB more memory, ... Pass skipMemoryCheck=true to take the risk.',
      facts({ estimatedExtraBytes: 300e6, headroomBytes: 45.5e6, limitBytes: 512e6, limitSource: 'cgroup-v2', memoryFactor: 24 }),
    );
    expect(refusal.message).toBe(
      "a heap snapshot would need about 300 MB more memory, but only 45.5 MB is left under the container's memory limit (cgroup-v2) of 512 MB; the process could be OOM-killed",
    );
    expect(refusal.hint).toMatch(/^pass --skip-memory-check/);
  });

  it('names --skip-memory-check when it needs a scope the token lacks', () => {
    const refusal = describeRefusal(
      'SCOPE_MISSING',
      'skipMemoryCheck=true risks the application being OOM-killed, and needs the "admin" scope, which the token "heap" lacks; without it the memory check stays on.',
      facts({ required: 'admin', held: ['heap'], param: 'skipMemoryCheck' }),
    );
    expect(refusal).toEqual({
      message: '--skip-memory-check needs a token with the "admin" scope',
      hint: 'leave out --skip-memory-check, or ask the application\'s owner for a token with the "admin" scope',
    });
  });

  it("names the flag and its limit in the flag's unit for a parameter the CLI sent", () => {
    expect(
      describeRefusal('BAD_PARAM', 'The parameter seconds must be a number from 1 to 300, not "500".', facts({ param: 'seconds', max: 300 })).message,
    ).toBe('--duration may be at most 5m');
    expect(describeRefusal('BAD_PARAM', 'The parameter timeoutMs must be an integer from 1 to 5000.', facts({ param: 'timeoutMs', max: 5000 })).message).toBe(
      "--eval-timeout may be at most 5s, the application's limit (repl.evalTimeoutMs)",
    );
    expect(describeRefusal('BAD_PARAM', 'The parameter intervalUs must be a number from 50 to 100000, not "10".', facts({ param: 'intervalUs' })).message).toBe(
      'the endpoint does not accept this --interval (it counts microseconds): it must be a number from 50 to 100000, not "10"',
    );
  });

  it("keeps an action's own parameter errors: they name the key=value the user typed", () => {
    const refusal = describeRefusal('BAD_PARAM', 'region must be one of eu, us.', facts({ action: 'flush', param: 'region' }));
    expect(refusal).toEqual({ message: 'region must be one of eu, us', hint: 'see its parameters: opsctl actions' });
  });

  it('never repeats routes or wire names', () => {
    const cases = [
      describeRefusal('UNKNOWN_ACTION', 'The application has no action "x"; GET /actions lists them.', facts({ action: 'x' })),
      describeRefusal('UNKNOWN_SNAPSHOT', 'No captured heap snapshot has the id "x"; GET /snapshots lists them.', facts({ id: 'x' })),
      describeRefusal('UNKNOWN_WORKER', 'No running worker thread is registered as "x"; GET /workers lists them.', facts({ worker: 'x' })),
      describeRefusal('NOT_FOUND', 'No such route.', facts()),
    ];
    for (const { message, hint } of cases) expect(`${message} ${hint}`).not.toMatch(HTTP_WORDS);
  });
});

describe('describeRefusal of a token', () => {
  const url = new URL('http://127.0.0.1:9500');

  it('names OPSCTL_TOKEN when the refused token came from it: logging in again would change nothing', () => {
    const refusal = describeRefusal('AUTH_INVALID', 'The bearer token is not valid.', {
      url,
      retryAfterSeconds: null,
      details: undefined,
      tokenSource: 'environment',
    });
    expect(refusal.message).toBe('the endpoint does not accept this token (from OPSCTL_TOKEN)');
    expect(refusal.hint).toMatch(/OPSCTL_TOKEN/);
    expect(refusal.hint).not.toMatch(/opsctl login http/);
  });

  it('says to log in again when the token was stored, in plain words', () => {
    const refusal = describeRefusal('AUTH_INVALID', 'The bearer token is not valid.', {
      url,
      retryAfterSeconds: null,
      details: undefined,
      tokenSource: 'stored',
    });
    expect(refusal).toEqual({
      message: 'the endpoint does not accept this token',
      hint: 'the token was mistyped, revoked or belongs elsewhere; log in again: opsctl login http://127.0.0.1:9500',
    });
  });

  it('names the command that needs a scope, and the scopes the token has, not the route', () => {
    const refusal = describeRefusal('SCOPE_MISSING', 'The token "ci" lacks the "heap" scope that GET /heapdump requires.', {
      url,
      retryAfterSeconds: null,
      details: { required: 'heap', held: ['read'] },
      tokenSource: 'stored',
      command: 'opsctl heapdump',
    });
    expect(refusal.message).toBe('opsctl heapdump needs a token with the "heap" scope; "ci" has read');
    expect(`${refusal.message} ${refusal.hint}`).not.toMatch(HTTP_WORDS);
  });
});
