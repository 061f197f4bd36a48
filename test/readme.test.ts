// The README's command reference is the real --help output, so it cannot drift.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('README', () => {
  it('shows exactly what opsctl --help prints for every command', () => {
    const script = fileURLToPath(new URL('../scripts/readme-help.mjs', import.meta.url));
    expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('gives the two set-up commands for a fresh machine', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const pinned = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { packageManager: string }).packageManager;
    expect(readme).toContain(`npm install -g ${pinned} && pnpm install && pnpm demo`);
    expect(readme).toMatch(/```sh\npnpm test\n```/);
  });
});
