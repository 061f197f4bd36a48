// JUnit XML, the report format CI systems display: one testcase per check.

export interface JunitCase {
  name: string;
  status: 'pass' | 'fail' | 'skip';
  detail: string;
  durationMs: number;
}

export function junitReport(suite: string, cases: readonly JunitCase[]): string {
  const failures = cases.filter((c) => c.status === 'fail').length;
  const skipped = cases.filter((c) => c.status === 'skip').length;
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const total = cases.reduce((sum, c) => sum + c.durationMs, 0);
  const body = cases.map((c) => {
    const open = `    <testcase classname="${escapeXml(suite)}" name="${escapeXml(c.name)}" time="${seconds(c.durationMs)}"`;
    if (c.status === 'pass') return `${open}>\n      <system-out>${escapeXml(c.detail)}</system-out>\n    </testcase>`;
    if (c.status === 'skip') return `${open}>\n      <skipped message="${escapeXml(c.detail)}"/>\n    </testcase>`;
    return `${open}>\n      <failure message="${escapeXml(c.detail)}" type="${escapeXml(c.name)}">${escapeXml(c.detail)}</failure>\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${escapeXml(suite)}" tests="${cases.length}" failures="${failures}" skipped="${skipped}" time="${seconds(total)}">`,
    `  <testsuite name="${escapeXml(suite)}" tests="${cases.length}" failures="${failures}" skipped="${skipped}" time="${seconds(total)}" timestamp="${new Date().toISOString().slice(0, 19)}">`,
    ...body,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/** XML-escapes text for both attributes and element content, dropping characters XML 1.0 forbids. */
function escapeXml(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
