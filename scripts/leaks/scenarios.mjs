// The scenario apps behind the leak recordings and `pnpm bench:leaks`: test/fixtures/leak-app.mjs
// in one memory behaviour, under 300 req/s of HTTP load from autocannon in its own process.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generateToken, hashToken } from '@opsctl/endpoint';

/** What each scenario runs: leak-app's MODE, its leak rate, a retained baseline heap. */
export const SCENARIOS = {
  'leak-1mb': { MODE: 'leak', LEAK_KB_PER_S: '1024' },
  'leak-100kb': { MODE: 'leak', LEAK_KB_PER_S: '100' },
  'buffer-100kb': { MODE: 'buffer', LEAK_KB_PER_S: '100' },
  'closure-512kb': { MODE: 'closure', LEAK_KB_PER_S: '512' },
  cache: { MODE: 'cache' },
  step: { MODE: 'step' },
  lazy: { MODE: 'lazy' },
  log: { MODE: 'log' },
  sawtooth: { MODE: 'sawtooth' },
  steady: { MODE: 'steady' },
  // V8's own major GCs only, as on Node 24 when forced ones are refused: a 400 MB heap (a forced GC
  // would pause longer than the monitor allows), and a leak with forcing turned off.
  'big-steady': { MODE: 'steady', BASE_MB: '400' },
  'unforced-leak-1mb': { MODE: 'leak', LEAK_KB_PER_S: '1024', MAX_FORCED_PAUSE_MS: '0' },
};

/** The scenarios that leak; the others must never be `suspected`. */
export const LEAKING = new Set(['leak-1mb', 'leak-100kb', 'buffer-100kb', 'closure-512kb', 'unforced-leak-1mb']);

export const REQUESTS_PER_SECOND = 300;
const here = (file) => fileURLToPath(new URL(file, import.meta.url));

/**
 * Starts a scenario app with `node` (a path; default this one) and its HTTP load for `seconds`.
 * Resolves with its endpoint URL, the headers that reach it, and stop().
 */
export async function startScenario(name, { node = process.execPath, seconds, env = {} }) {
  const token = generateToken();
  const app = spawn(node, [here('../../test/fixtures/leak-app.mjs')], {
    env: { ...process.env, ...SCENARIOS[name], ...env, OPSCTL_TOKENS: `scenario:${hashToken(token)}:read` },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = await new Promise((resolve, reject) => {
    app.once('exit', (code) => reject(new Error(`${name}: the app exited with ${code}`)));
    createInterface({ input: app.stdout }).once('line', (line) => resolve(JSON.parse(line)));
  });
  const load = spawn(process.execPath, [here('../bench/load.mjs'), `${ready.app}/`, String(seconds + 5), '10', String(REQUESTS_PER_SECOND)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return {
    ops: ready.ops,
    headers: { authorization: `Bearer ${token}` },
    stop() {
      load.kill('SIGINT');
      app.kill('SIGKILL');
    },
  };
}
