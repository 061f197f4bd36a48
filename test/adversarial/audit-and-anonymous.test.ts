// What callers without a token get, and what they cost: a bounded amount of audit however
// fast they come (authenticated events and refused tokens are never lost), and answers
// that tell them nothing about the process.
import { beforeAll, describe, expect, it } from 'vitest';
import { mintToken, runFlood, startApp } from '../support/processes.js';
import { auditEvents, getFresh } from '../support/sockets.js';
import { rawHttp } from '../../packages/endpoint/test-support/index.js';

const targetApp = new URL('../fixtures/target-app.mjs', import.meta.url).pathname;

let admin: { token: string; line: string };
beforeAll(async () => {
  admin = await mintToken('admin', 'admin');
});

describe('the audit under a flood', () => {
  it('writes a bounded number of lines for thousands of anonymous refusals, counts them in a summary, and loses no authenticated event', async () => {
    const app = await startApp(targetApp, { OPSCTL_TOKENS: admin.line });
    const port = Number(new URL(app.ops).port);
    let responses = 0;
    try {
      const flooding = runFlood(port, 'anonymous', 40, 4_000);
      await new Promise((r) => setTimeout(r, 500));
      for (let i = 0; i < 10; i++) expect((await getFresh(`${app.ops}/info`, { authorization: `Bearer ${admin.token}` })).status).toBe(200);
      ({ responses } = await flooding);
      expect(responses).toBeGreaterThan(1_000);
      const during = auditEvents(app.stderr());
      expect(during.filter((e) => e.kind === 'refusal').length).toBeLessThan(10);
      expect(during.filter((e) => e.kind === 'request' && e.token === 'admin')).toHaveLength(10);
    } finally {
      await app.stop();
    }
    // Closing writes the pending summary: every refusal is counted in it.
    const summaries = auditEvents(app.stderr()).filter((e) => e.kind === 'summary');
    const counted = summaries.reduce((sum, e) => sum + Number((e.detail?.['counts'] as Record<string, number> | undefined)?.['401 AUTH_REQUIRED'] ?? 0), 0);
    expect(counted + 1).toBeGreaterThanOrEqual(responses);
    expect(auditEvents(app.stderr()).length).toBeLessThan(40);
  });

  it('writes each refused token in full until the address is throttled, then at the 1st, 10th, 100th… refusal', async () => {
    const app = await startApp(targetApp, { OPSCTL_TOKENS: admin.line });
    try {
      const { responses } = await runFlood(Number(new URL(app.ops).port), 'badtoken', 10, 3_000);
      expect(responses).toBeGreaterThan(200);
      const events = auditEvents(app.stderr());
      // 10 bad tokens a minute are allowed; each is written as it is.
      expect(events.filter((e) => e.code === 'AUTH_INVALID')).toHaveLength(10);
      const throttled = events.filter((e) => e.kind === 'throttle').map((e) => e.detail?.['refusedInBlock']);
      expect(throttled.slice(0, 3)).toEqual([1, 10, 100]);
      expect(events.length).toBeLessThan(20);
    } finally {
      await app.stop();
    }
  });
});

describe('answers to callers without a token', () => {
  it('carry no instance header: parse errors, oversized headers, timeouts, 401s and a public health check', async () => {
    const app = await startApp(targetApp, {
      OPSCTL_TOKENS: admin.line,
      PUBLIC_HEALTH: '1',
      LIMITS: JSON.stringify({ headersTimeoutMs: 1_000, requestTimeoutMs: 2_000 }),
    });
    const port = Number(new URL(app.ops).port);
    try {
      const answers = await Promise.all([
        rawHttp(port, ['\x16\x03\x01 not http\r\n\r\n']),
        rawHttp(port, [`GET /info HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`]),
        rawHttp(port, ['GET /info HTTP/1.1\r\nHost: x\r\n']),
        rawHttp(port, ['GET /info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']),
        rawHttp(port, ['GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']),
      ]);
      expect(answers.map((a) => a.status)).toEqual([400, 431, 408, 401, 200]);
      for (const answer of answers) expect(answer.headers).not.toHaveProperty('opsctl-instance');
      const authenticated = await fetch(`${app.ops}/info`, { headers: { authorization: `Bearer ${admin.token}` } });
      expect(authenticated.headers.get('opsctl-instance')).toMatch(/pid=\d+/);
    } finally {
      await app.stop();
    }
  });

  it('answer HEAD with a malformed target without a body', async () => {
    const app = await startApp(targetApp, { OPSCTL_TOKENS: admin.line });
    try {
      const answer = await rawHttp(Number(new URL(app.ops).port), ['HEAD /%%zz\x01 HTTP/1.1\r\nHost: x\r\n\r\n']);
      expect(answer.status).toBe(400);
      expect(answer.body).toBe('');
    } finally {
      await app.stop();
    }
  });
});
