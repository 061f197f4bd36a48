// `pnpm demo`, the README's first command, runs to the end against a real app and
// leaves nothing running.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { validateHeapSnapshot } from '../packages/cli/src/heapsnapshot/validate.js';

const cwd = mkdtempSync(join(tmpdir(), 'opsctl-e2e-demo-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('pnpm demo', () => {
  it('runs status, repl, heapdump, leaks (showing the leak) and check, says where the snapshot is, and stops the app', async () => {
    const script = fileURLToPath(new URL('../scripts/demo.mjs', import.meta.url));
    const child = spawn(process.execPath, [script], { cwd, env: { PATH: process.env['PATH'], HOME: process.env['HOME'] }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, output).toBe(0);
    for (const command of ['token new', 'login', 'status', 'repl -e', 'heapdump', 'leaks', 'check']) expect(output).toContain(`$ opsctl ${command}`);
    // The app leaks 512 KB/s: the demo shows the trend it promises, not "not enough data".
    expect(output).toMatch(/^verdict\s+(GROWING|SUSPECTED)\b/m);
    const snapshot = /The heap snapshot is (\S+\.heapsnapshot)/.exec(output)?.[1] ?? '';
    expect(existsSync(join(cwd, snapshot))).toBe(true);
    expect((await validateHeapSnapshot(join(cwd, snapshot))).nodeCount).toBeGreaterThan(10_000);
    expect(output).toMatch(/DevTools/);
    const pid = /\(pid (\d+)\)/.exec(output)?.[1];
    expect(() => execFileSync('kill', ['-0', pid ?? '0'], { stdio: 'ignore' })).toThrow();
  });
});
