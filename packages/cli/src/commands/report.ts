// opsctl report [--out PATH]: Node's diagnostic report of the target process (versions,
// resource usage, JS and native stacks, libuv handles, limits), written atomically. The
// endpoint skips network lookups and redacts environment values.
import type { Context } from '../context.js';
import { saveJson } from '../client/download.js';
import { type Destination, safeName, withDestination } from '../files.js';
import { formatBytes } from '../ui/format.js';
import { printable } from '../ui/sanitize.js';

export interface ReportOptions {
  /** A file, or a directory; the current directory when absent. */
  out?: string;
  force: boolean;
}

export interface ReportResult {
  path: string;
  bytes: number;
  pid: number | null;
  node: string | null;
}

export async function runReport(opts: ReportOptions, ctx: Context): Promise<ReportResult> {
  return withDestination({ ...opts, cwd: ctx.cwd }, (destination) => reportTo(destination, opts, ctx));
}

async function reportTo(destination: Destination, opts: ReportOptions, ctx: Context): Promise<ReportResult> {
  const client = await ctx.client();
  const spinner = await ctx.out.spinner('generating the diagnostic report…');
  try {
    const response = await client.request('/report');
    const saved = await saveJson(response.body, {
      destination,
      force: opts.force,
      what: 'the diagnostic report',
      check: (report) => (report['header'] !== null && typeof report['header'] === 'object' ? null : 'it has no "header"'),
      name: (report) => {
        const header = report['header'] as { host?: unknown; processId?: unknown };
        const stamp = new Date()
          .toISOString()
          .replace(/[-:]/g, '')
          .replace(/\.\d+Z$/, 'Z');
        // The endpoint's host name, made a safe part of a file name before it is one.
        return `report-${safeName(String(header.host ?? 'host'))}-${safeName(String(header.processId ?? 'pid'))}-${stamp}.json`;
      },
      signal: ctx.signal,
      client,
      notice: (text) => ctx.out.info(text),
    });
    spinner.stop();
    const header = saved.document['header'] as { processId?: unknown; nodejsVersion?: unknown };
    const result: ReportResult = {
      path: saved.path,
      bytes: saved.bytes,
      pid: typeof header.processId === 'number' ? header.processId : null,
      // Printed: the report is the endpoint's, so its strings may hold terminal escapes.
      node: typeof header.nodejsVersion === 'string' ? printable(header.nodejsVersion) : null,
    };
    ctx.out.result(
      result,
      (r, c) =>
        `${c.green('✔')} Diagnostic report written to ${c.bold(r.path)} (${formatBytes(r.bytes)}${r.pid === null ? '' : `, pid ${r.pid}`}${r.node === null ? '' : `, Node ${r.node}`})`,
    );
    return result;
  } finally {
    spinner.stop();
  }
}
