// `pnpm demo`: the whole product against a real application, with the built binary.
// Starts examples/plain-http with a leak switched on, mints a token, logs in (token in a
// mode-0600 file inside a temporary config directory, so no keychain is needed), then
// runs status, repl -e, heapdump, leaks and check, and says where the snapshot is.
// The app is stopped and the temporary directory removed on success, failure or Ctrl-C.
//   pnpm demo --keep    leaves the app running until Ctrl-C, to try commands by hand
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const keep = process.argv.includes('--keep');
// A trend shows as "growing" once 6 post-GC samples after warm-up show it; the demo asks
// for one every 5 s (the endpoint forces at most that often, within 0.5% of wall time, and
// otherwise says when to ask again) and waits at most this long for the leak to show.
const LEAK_EVIDENCE_MAX_SECONDS = 150;
const SAMPLE_EVERY_MS = 5_000;
const root = fileURLToPath(new URL('..', import.meta.url));
const opsctlBin = join(root, 'packages/cli/dist/bin.js');
const outDir = resolve('opsctl-demo');
const configDir = mkdtempSync(join(tmpdir(), 'opsctl-demo-config-'));
const env = { ...process.env, OPSCTL_CONFIG_DIR: configDir };
for (const name of ['OPSCTL_URL', 'OPSCTL_TOKEN', 'OPSCTL_CONTEXT']) delete env[name];
const tty = process.stdout.isTTY;
const bold = (text) => (tty && !process.env.NO_COLOR ? `\u001b[1m${text}\u001b[22m` : text);

let app = null;
const stopApp = () =>
  new Promise((resolve) => {
    if (!app || app.exitCode !== null || app.signalCode !== null) return resolve();
    app.once('exit', resolve);
    app.kill('SIGTERM');
  });
const cleanUp = () => {
  if (app && app.exitCode === null) app.kill('SIGTERM');
  rmSync(configDir, { recursive: true, force: true });
};
process.on('exit', cleanUp);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

function step(title) {
  console.log(`\n${bold(`▶ ${title}`)}`);
}

/** Runs the built opsctl with the demo's config; shows the command (unless quiet) and its output (unless captured). */
function opsctl(args, { input, capture = false, quiet = false } = {}) {
  if (!quiet) console.log(`$ opsctl ${args.join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [opsctlBin, ...args], {
      env,
      stdio: [input === undefined ? 'inherit' : 'pipe', capture ? 'pipe' : 'inherit', 'inherit'],
    });
    let out = '';
    child.stdout?.on('data', (chunk) => (out += chunk));
    if (input !== undefined) child.stdin.end(input);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`opsctl ${args[0]} exited with ${code}`))));
  });
}

try {
  step('Mint a token for the application (offline; only its hash goes into the app)');
  const minted = JSON.parse(await opsctl(['token', 'new', '--name', 'demo-admin', '--scopes', 'admin', '--json'], { capture: true }));
  console.log(`token ${minted.token.slice(0, 12)}… (shown once)\nOPSCTL_TOKENS entry: ${minted.line}`);

  step('Start the example app: a shop API on node:http, leaking 512 KB/s, endpoint on its own loopback port');
  app = spawn(process.execPath, ['server.js'], {
    cwd: join(root, 'examples/plain-http'),
    env: { ...process.env, PORT: '0', OPSCTL_PORT: '0', OPSCTL_TOKENS: minted.line, LEAK_KB_PER_S: '512' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const ready = await new Promise((resolve, reject) => {
    app.once('exit', (code) => reject(new Error(`the example app exited early (code ${code})`)));
    createInterface({ input: app.stdout }).once('line', (line) => resolve(JSON.parse(line)));
  });
  console.log(`app ${ready.app} (pid ${ready.pid}), endpoint ${ready.ops}`);

  step('Log in: the token is verified against the endpoint, then stored');
  await opsctl(['login', ready.ops, '--name', 'demo', '--with-token', '--insecure-storage'], { input: minted.token });

  step('Who and where is the process?');
  await opsctl(['status']);

  step('Ask the process itself: a one-shot evaluation in its REPL context');
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template literal for the remote REPL to evaluate.
  await opsctl(['repl', '-e', '`${orders.size} order(s), ${leaked.length} leaked objects so far`']);

  step('Take a heap snapshot (the process pauses while V8 writes it)');
  mkdirSync(outDir, { recursive: true });
  const dump = JSON.parse(await opsctl(['heapdump', '--out', `${outDir}/`, '--json'], { capture: true }));
  console.log(
    `${dump.nodes.toLocaleString('en-US')} objects, ${(dump.bytes / 1024 / 1024).toFixed(1)} MB, process paused ${(dump.snapshotMs / 1000).toFixed(1)} s`,
  );

  step('Does it leak? "suspected" needs 90 s of steady growth after warm-up; a trend before that is "growing"');
  console.log(`collecting post-GC samples: asking for one every ${SAMPLE_EVERY_MS / 1000} s until the leak shows (up to ${LEAK_EVIDENCE_MAX_SECONDS} s)…`);
  const started = Date.now();
  let shown = '';
  while (Date.now() - started < LEAK_EVIDENCE_MAX_SECONDS * 1000) {
    await new Promise((resolve) => setTimeout(resolve, SAMPLE_EVERY_MS));
    const { verdict, gcRequest } = JSON.parse(await opsctl(['leaks', '--gc', '--json'], { capture: true, quiet: true }));
    const line = `${verdict.verdict}${verdict.samplesNeeded > 0 ? `, ${verdict.samplesNeeded} more sample(s) needed` : ''}`;
    if (line !== shown)
      console.log(
        `  after ${Math.round((Date.now() - started) / 1000)} s: ${line}${gcRequest?.forced === false ? ` (this time the endpoint refused to force a GC: ${gcRequest.refusal.code})` : ''}`,
      );
    shown = line;
    if (verdict.verdict === 'growing' || verdict.verdict === 'suspected') break;
  }
  await opsctl(['leaks']);

  step('The smoke check a CI pipeline would run after a deploy');
  await opsctl(['check', '--require', 'heap,repl']);

  console.log(`\n${bold('Done.')} The heap snapshot is ${relative(process.cwd(), dump.path) || dump.path}
Open it in Chrome: DevTools (F12) → Memory → "Load profile…", pick the file, then
sort the Summary by "Retained Size". Try the leak verdict live with: pnpm demo --keep`);

  if (!keep) await stopApp();
  else {
    console.log(`\nThe app keeps running (and leaking). In another terminal:
  export OPSCTL_CONFIG_DIR=${configDir}
  node ${relative(process.cwd(), opsctlBin)} leaks --watch
  node ${relative(process.cwd(), opsctlBin)} repl
Ctrl-C here stops it.`);
    await new Promise((resolve) => app.once('exit', resolve));
  }
} catch (error) {
  console.error(`\ndemo failed: ${error.message}`);
  process.exitCode = 1;
  await stopApp();
}
