// Runs in a worker process of its own, where nothing has loaded node:domain yet (the
// first test checks): the application's side of the conflict is real here, not mocked.
// Once node:repl has failed to load, it stays failed in this process: keep the order.
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { bearer, jsonOf, startEndpoint } from '../../test-support/index.js';
import { REPL_PROTOCOL } from '../protocol/index.js';
import { isReplUnavailable, loadRepl, REPL_UNAVAILABLE } from './load.js';

describe('node:repl, loaded on first use', () => {
  it('is not loaded by importing the endpoint or running one with the REPL enabled: the application can still set a capture callback', async () => {
    const ep = await startEndpoint({ repl: {} }, { operator: ['repl'] });
    try {
      expect((await fetch(`${ep.url}/repl`, { headers: bearer(ep.tokens['operator']) })).status).toBe(200);
      // Throws ERR_DOMAIN_CANNOT_SET_UNCAUGHT_EXCEPTION_CAPTURE once node:domain is loaded.
      expect(() => process.setUncaughtExceptionCaptureCallback(() => {})).not.toThrow();
    } finally {
      process.setUncaughtExceptionCaptureCallback(null);
      await ep.close();
    }
  });

  it('cannot load beside an uncaught-exception capture callback: loadRepl, /eval and the upgrade say so, and the endpoint goes on', async () => {
    const ep = await startEndpoint({ repl: {} }, { operator: ['repl'], reader: ['read'] });
    process.setUncaughtExceptionCaptureCallback(() => {});
    try {
      const refusal = await loadRepl().then(
        () => null,
        (error: unknown) => error,
      );
      expect(isReplUnavailable(refusal)).toBe(true);
      expect(refusal).toMatchObject({ code: REPL_UNAVAILABLE, message: expect.stringMatching(/setUncaughtExceptionCaptureCallback/) });

      const status = await fetch(`${ep.url}/repl`, { headers: bearer(ep.tokens['operator']) });
      expect(status.status).toBe(500);
      expect((await jsonOf(status)).error).toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/setUncaughtExceptionCaptureCallback/) });

      const evaluated = await fetch(`${ep.url}/eval`, {
        method: 'POST',
        headers: { ...bearer(ep.tokens['operator']), 'content-type': 'application/json' },
        body: JSON.stringify({ code: '1' }),
      });
      expect(evaluated.status).toBe(500);
      expect((await jsonOf(evaluated)).error).toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/setUncaughtExceptionCaptureCallback/) });

      const upgraded = await new Promise<{ status: number; body: unknown }>((resolve, reject) => {
        const req = request(`${ep.url}/repl`, { headers: { connection: 'Upgrade', upgrade: REPL_PROTOCOL, ...bearer(ep.tokens['operator']) } });
        req.on('upgrade', () => reject(new Error('upgraded')));
        req.on('response', (res) => {
          let text = '';
          res
            .setEncoding('utf8')
            .on('data', (c: string) => (text += c))
            .on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        });
        req.on('error', reject);
        req.end();
      });
      expect(upgraded).toMatchObject({
        status: 500,
        body: { error: { code: 'INTERNAL', message: expect.stringMatching(/setUncaughtExceptionCaptureCallback/) } },
      });

      await new Promise((r) => setTimeout(r, 50));
      const audited = ep.events.filter((e) => e.kind === 'request').map((e) => [e.path, e.detail?.['error']]);
      expect(audited).toEqual([
        ['/repl', expect.stringMatching(/setUncaughtExceptionCaptureCallback/)],
        ['/eval', expect.stringMatching(/setUncaughtExceptionCaptureCallback/)],
        ['/repl', expect.stringMatching(/setUncaughtExceptionCaptureCallback/)],
      ]);
      // The refused session gave its place in the gate back: the status asks for one too.
      expect((await fetch(`${ep.url}/repl`, { headers: bearer(ep.tokens['operator']) })).status).toBe(500);
      expect((await fetch(`${ep.url}/info`, { headers: bearer(ep.tokens['reader']) })).status).toBe(200);
    } finally {
      process.setUncaughtExceptionCaptureCallback(null);
      await ep.close();
    }
  });
});
