// opsctl check: the smoke test a CI pipeline runs after a deploy. Each check passes,
// fails or is skipped; the exit code names the first failure's kind (4 unreachable or
// bad TLS, 3 token or scopes, 5 leak suspected, 1 otherwise). A leak verdict that cannot
// be given yet (a process just started) is skipped, never passed; --require-leak-verdict
// fails it, for pipelines that run long enough for one. A checklist on a
// terminal, --json, and --junit FILE for CI systems that display JUnit XML.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { isScope, SCOPE_LIST, scopeAllows, type InfoResponse, type MainThreadStatus, type Scope } from '../endpoint/protocol.js';
import type { Context } from '../context.js';
import { CliError, isCliError, type CliErrorCode } from '../errors.js';
import { writeFileAtomic } from '../files.js';
import { inspectCertificate } from '../client/certificate.js';
import { takeHeapSnapshot } from '../operations/heap-snapshot.js';
import { formatBytes } from '../ui/format.js';
import { junitReport } from '../ui/junit.js';

export interface CheckOptions {
  require?: string;
  leakCheck: boolean;
  /** Fail, rather than skip, the leak check when there is no verdict yet. */
  requireLeakVerdict?: boolean;
  heapdump: boolean;
  junit?: string;
}

type CheckStatus = 'pass' | 'fail' | 'skip';

interface CheckOutcome {
  name: string;
  status: CheckStatus;
  detail: string;
  durationMs: number;
  /** For a failure: the error code that decides the exit code. */
  code?: CliErrorCode;
}

export interface CheckReport {
  ok: boolean;
  target: string;
  checks: CheckOutcome[];
}

// A certificate this close to expiry passes with a warning in its detail.
const EXPIRY_WARNING_DAYS = 14;

export async function runCheck(opts: CheckOptions, ctx: Context): Promise<CheckReport> {
  const required = parseScopes(opts.require);
  const target = await ctx.target();
  const checks: CheckOutcome[] = [];
  const record = async (name: string, run: () => Promise<{ status?: CheckStatus; detail: string }>): Promise<boolean> => {
    const started = performance.now();
    let outcome: CheckOutcome;
    try {
      const { status = 'pass', detail } = await run();
      outcome = { name, status, detail, durationMs: Math.round(performance.now() - started) };
    } catch (error) {
      const cliError = isCliError(error) ? error : new CliError('CHECK_FAILED', (error as Error).message);
      outcome = { name, status: 'fail', detail: cliError.message, durationMs: Math.round(performance.now() - started), code: cliError.code };
    }
    checks.push(outcome);
    if (!ctx.out.json) ctx.out.data(`${renderLine(outcome, ctx)}\n`);
    return outcome.status !== 'fail';
  };
  const skip = (name: string, why: string) => record(name, async () => ({ status: 'skip', detail: why }));

  const anonymous = await ctx.client(target, null);
  let reachable = false;
  await record('reachable', async () => {
    const started = performance.now();
    try {
      await anonymous.request('/info');
    } catch (error) {
      if (!isCliError(error) || !error.code.startsWith('ENDPOINT_')) throw error;
    }
    reachable = true;
    return { detail: `${target.url.origin} answered in ${Math.round(performance.now() - started)} ms` };
  });

  if (target.url.protocol !== 'https:') await skip('tls', 'plain http');
  else {
    await record('tls', async () => {
      const cert = await inspectCertificate(target.url, target.ca, ctx.options.timeout);
      if (!cert.authorized) throw new CliError('TLS_FAILED', `the certificate is not valid: ${cert.error}`);
      const days = Math.floor((cert.validTo.getTime() - ctx.now()) / 86_400_000);
      return { detail: `valid until ${cert.validTo.toISOString().slice(0, 10)} (${days} days)${days < EXPIRY_WARNING_DAYS ? '; renew it soon' : ''}` };
    });
  }

  if (!reachable) {
    for (const name of ['anonymous-refused', 'token', 'main-thread', 'scopes', 'leaks', 'heapdump']) await skip(name, 'the endpoint is unreachable');
  } else {
    await record('anonymous-refused', async () => {
      // Who the process is and its memory use: neither may be told to a caller without a token.
      for (const [path, what] of [
        ['/info', 'who the process is'],
        ['/memory', 'its memory use'],
      ] as const) {
        try {
          await anonymous.request(path);
        } catch (error) {
          if (isCliError(error) && error.status === 401) continue;
          throw error;
        }
        throw new CliError('CHECK_FAILED', `the endpoint told ${what} to a caller without a token: something in front of it lets anyone in`);
      }
      return { detail: 'a caller without a token is turned away (tried: who the process is, its memory use)' };
    });

    let info: InfoResponse | null = null;
    await record('token', async () => {
      const client = await ctx.client(target);
      info = await client.json<InfoResponse>('/info');
      return { detail: `"${info.caller.token}" (scopes: ${info.caller.scopes.join(', ')}) on ${info.instance.host}, pid ${info.instance.pid}` };
    });
    const caller = info as InfoResponse | null;

    if (caller === null) await skip('main-thread', 'no working token');
    else if (!caller.mainThread.watched) await skip('main-thread', "the endpoint is mounted in the application's server, which cannot watch its own thread");
    else await record('main-thread', async () => mainThreadCheck(caller.mainThread));

    if (caller === null) await skip('scopes', 'no working token');
    else if (required.length === 0) await skip('scopes', 'nothing required (--require LIST)');
    else {
      await record('scopes', async () => {
        const missing = required.filter((scope) => !scopeAllows(caller.caller.scopes, scope));
        if (missing.length > 0) throw new CliError('ENDPOINT_SCOPE_MISSING', `the token lacks ${missing.map((s) => `"${s}"`).join(', ')}`);
        return { detail: `has ${required.join(', ')}` };
      });
    }

    if (!opts.leakCheck) await skip('leaks', 'turned off (--no-leak-check)');
    else if (caller === null) await skip('leaks', 'no working token');
    else await record('leaks', () => leakCheck(ctx, opts.requireLeakVerdict === true));

    if (!opts.heapdump) await skip('heapdump', 'not asked for (--heapdump)');
    else if (caller === null) await skip('heapdump', 'no working token');
    else await record('heapdump', () => heapdumpRoundTrip(ctx));
  }

  const report: CheckReport = { ok: checks.every((c) => c.status !== 'fail'), target: target.url.href.replace(/\/$/, ''), checks };
  if (opts.junit) {
    // 0600 like every file opsctl writes: details can name hosts, tokens' holders and scopes.
    const path = resolve(ctx.cwd, opts.junit);
    await writeFileAtomic(path, junitReport('opsctl check', report.checks), 0o600);
    if (!ctx.out.json) ctx.out.info(`JUnit report written to ${path}`);
  }
  if (ctx.out.json) ctx.out.result(report, () => '');
  const failed = checks.filter((c) => c.status === 'fail');
  if (failed.length > 0) {
    throw new CliError(
      failed[0]?.code ?? 'CHECK_FAILED',
      `${failed.length} check${failed.length > 1 ? 's' : ''} failed: ${failed.map((c) => c.name).join(', ')}`,
    );
  }
  return report;
}

async function leakCheck(ctx: Context, requireVerdict: boolean): Promise<{ status?: CheckStatus; detail: string }> {
  const [{ fetchLeakStatus }, { DIFF_COMMAND, nextStep }] = await Promise.all([import('../operations/leak-status.js'), import('../ui/leak-report.js')]);
  const status = await fetchLeakStatus(ctx);
  const { verdict } = status;
  if (verdict.verdict === 'suspected') throw new CliError('LEAK_SUSPECTED', `leak suspected: ${verdict.reason}`, { hint: `see what grows: ${DIFF_COMMAND}` });
  if (verdict.verdict === 'unknown') {
    const detail = `no verdict yet (${nextStep(status, status.time ?? ctx.now()) ?? verdict.reason})`;
    if (requireVerdict) throw new CliError('LEAK_VERDICT_UNKNOWN', `${detail}; --require-leak-verdict needs one`);
    return { status: 'skip', detail };
  }
  return { detail: `${verdict.verdict}: ${verdict.reason}` };
}

async function heapdumpRoundTrip(ctx: Context): Promise<{ detail: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'opsctl-check-'));
  try {
    const quiet = { ...ctx, out: ctx.out.silent() };
    const result = await takeHeapSnapshot({ out: `${dir}/`, gzip: true, force: false, skipMemoryCheck: false }, await quiet.client(), quiet);
    return {
      detail: `${result.nodes.toLocaleString('en-US')} objects, ${formatBytes(result.bytes)} gzipped, process paused ${(result.snapshotMs / 1000).toFixed(1)} s`,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function parseScopes(list: string | undefined): Scope[] {
  if (!list) return [];
  const scopes = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unknown = scopes.filter((s) => !isScope(s));
  if (unknown.length > 0)
    throw new CliError('USAGE', `unknown scope${unknown.length > 1 ? 's' : ''} ${unknown.map((s) => `"${s}"`).join(', ')} in --require`, {
      hint: `choose from ${SCOPE_LIST}`,
    });
  return scopes as Scope[];
}

function renderLine(outcome: CheckOutcome, ctx: Context): string {
  const c = ctx.out.c;
  const mark = outcome.status === 'pass' ? c.green('✔') : outcome.status === 'fail' ? c.red('✖') : c.dim('-');
  return `${mark} ${outcome.name.padEnd(18)} ${outcome.status === 'skip' ? c.dim(outcome.detail) : outcome.detail}`;
}

/** The application's main thread answers: a deploy stuck in a loop fails its smoke test. */
function mainThreadCheck(status: MainThreadStatus): { detail: string } {
  if (status.blocked) {
    const top = status.stack?.[0];
    throw new CliError(
      'CHECK_FAILED',
      `the event loop has been blocked for ${(status.blockedForMs / 1000).toFixed(1)} s${top === undefined ? '' : ` in ${top.function} (${basename(top.file)}:${top.line})`}; run: opsctl stack`,
    );
  }
  if (status.snapshot !== null) return { detail: 'writing a heap snapshot (the event loop resumes after it)' };
  return { detail: `the event loop turned ${status.lagMs} ms ago` };
}
