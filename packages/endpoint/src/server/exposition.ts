// Metrics as a scraper reads them: the Prometheus text format (0.0.4), or OpenMetrics
// 1.0 when the scraper asks for it by Accept. Family names carry their unit (`_bytes`,
// `_seconds`); a counter's samples end in `_total`; an info family is one sample of
// value 1 whose labels are the information.

interface MetricSample {
  labels?: Readonly<Record<string, string>>;
  value: number;
}

export interface MetricFamily {
  /** The family's name, unit included, without `_total` for a counter or `_info` for an info. */
  name: string;
  type: 'gauge' | 'counter' | 'info';
  help: string;
  unit?: 'bytes' | 'seconds';
  samples: readonly MetricSample[];
}

export const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_TEXT = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** Whether the scraper's Accept header prefers OpenMetrics (Prometheus asks for it first, by quality). */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  let open = -1;
  let text = -1;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.trim().toLowerCase().split(';');
    const q = Number(
      params
        .map((p) => p.trim())
        .find((p) => p.startsWith('q='))
        ?.slice(2) ?? 1,
    );
    if (type.trim() === 'application/openmetrics-text') open = Math.max(open, q);
    if (type.trim() === 'text/plain' || type.trim() === '*/*') text = Math.max(text, q);
  }
  return open > 0 && open >= text;
}

/** The Prometheus text exposition format. */
export function prometheusText(families: readonly MetricFamily[]): string {
  let out = '';
  for (const family of families) {
    const name = sampleName(family);
    out += `# HELP ${name} ${escapeHelp(family.help)}\n# TYPE ${name} ${family.type === 'info' ? 'gauge' : family.type}\n`;
    for (const sample of family.samples) out += `${name}${labels(sample.labels)} ${value(sample.value)}\n`;
  }
  return out;
}

/** OpenMetrics 1.0 text, ending in `# EOF`. */
export function openMetrics(families: readonly MetricFamily[]): string {
  let out = '';
  for (const family of families) {
    out += `# TYPE ${family.name} ${family.type}\n`;
    if (family.unit !== undefined) out += `# UNIT ${family.name} ${family.unit}\n`;
    out += `# HELP ${family.name} ${escapeHelp(family.help)}\n`;
    const name = sampleName(family);
    for (const sample of family.samples) out += `${name}${labels(sample.labels)} ${value(sample.value)}\n`;
  }
  return `${out}# EOF\n`;
}

function sampleName(family: MetricFamily): string {
  if (family.type === 'counter') return `${family.name}_total`;
  if (family.type === 'info') return `${family.name}_info`;
  return family.name;
}

function labels(set: Readonly<Record<string, string>> | undefined): string {
  if (set === undefined) return '';
  const pairs = Object.entries(set).map(([key, text]) => `${key}="${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function value(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  if (n === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(n);
}
