// Records what the leak monitor sees in real scenario apps, for the recorded-run test
// (packages/endpoint/src/diagnostics/leak-recordings.test.ts) and docs/leak-detection.md.
//   node scripts/record-leak-runs.mjs [--seconds 300] [--parallel 2] [--out DIR] SCENARIO...
// Each scenario runs test/fixtures/leak-app.mjs on the Node running this script, under
// 300 req/s of HTTP load (autocannon, its own process), and writes DIR/SCENARIO.nodeNN.ndjson:
// a header line, then one line per post-GC sample from GET /leaks/stream
// ({ t: seconds since the monitor began, heapUsed, external, forced }), and every 10 s the
// live verdict ({ t, verdict }) as GET /leaks gave it.
import { createWriteStream, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REQUESTS_PER_SECOND, SCENARIOS, startScenario } from './leaks/scenarios.mjs';

const POLL_MS = 10_000;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '300' },
    parallel: { type: 'string', default: '2' },
    out: { type: 'string', default: 'packages/endpoint/src/diagnostics/recordings' },
  },
});
const unknown = positionals.filter((name) => !(name in SCENARIOS));
if (positionals.length === 0 || unknown.length > 0) {
  console.error(
    `usage: node scripts/record-leak-runs.mjs [--seconds 300] [--parallel 2] [--out DIR] SCENARIO...\nscenarios: ${Object.keys(SCENARIOS).join(', ')}`,
  );
  process.exit(2);
}
const seconds = Number(values.seconds);
const outDir = resolve(values.out);
mkdirSync(outDir, { recursive: true });
const nodeMajor = process.versions.node.split('.')[0];

async function record(scenario) {
  const app = await startScenario(scenario, { seconds });
  const { headers } = app;
  const file = join(outDir, `${scenario}.node${nodeMajor}.ndjson`);
  const out = createWriteStream(file);
  const stream = new AbortController();
  try {
    const { since } = await (await fetch(`${app.ops}/leaks`, { headers })).json();
    const t = (time) => Math.round(time - since) / 1000;
    out.write(
      `${JSON.stringify({ type: 'recording', scenario, ...SCENARIOS[scenario], node: process.version, seconds, load: `${REQUESTS_PER_SECOND} req/s`, loadAverage: loadavg()[0], recordedAt: new Date().toISOString() })}\n`,
    );
    const live = (async () => {
      const response = await fetch(`${app.ops}/leaks/stream`, { headers, signal: stream.signal });
      let buffer = '';
      for await (const chunk of response.body.pipeThrough(new TextDecoderStream())) {
        buffer += chunk;
        let newline;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = JSON.parse(buffer.slice(0, newline));
          buffer = buffer.slice(newline + 1);
          const samples = line.type === 'status' ? line.samples : line.type === 'sample' ? [line.sample] : [];
          for (const s of samples) out.write(`${JSON.stringify({ t: t(s.time), heapUsed: s.heapUsed, external: s.external, forced: s.forced })}\n`);
        }
      }
    })().catch((error) => {
      if (!stream.signal.aborted) throw error;
    });
    const started = Date.now();
    while (Date.now() - started < seconds * 1000) {
      await new Promise((r) => setTimeout(r, Math.min(POLL_MS, seconds * 1000 - (Date.now() - started))));
      const status = await (await fetch(`${app.ops}/leaks`, { headers })).json();
      const { forcedGcs, forcedPauseMs, naturalGcs, naturalPauseMs, lastRefusal } = status.sampling;
      out.write(
        `${JSON.stringify({ type: 'verdict', t: t(status.time), verdict: status.verdict.verdict, forcedGcs, forcedPauseMs, naturalGcs, naturalPauseMs, refusal: lastRefusal?.code ?? null, loadAverage: loadavg()[0] })}\n`,
      );
    }
    stream.abort();
    await live;
  } finally {
    app.stop();
    await new Promise((resolve) => out.end(resolve));
  }
  console.log(`${scenario} on Node ${process.version}: ${file}`);
}

const queue = [...positionals];
await Promise.all(
  Array.from({ length: Number(values.parallel) }, async () => {
    while (queue.length > 0) await record(queue.shift());
  }),
);
