// The docs cannot drift from what they describe: the command reference in docs/cli/ is
// the real --help output, and the README keeps the two set-up commands.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/processes.js';

describe('docs', () => {
  it('show exactly what opsctl --help prints for every command', () => {
    const script = join(repoRoot, 'scripts/docs-cli.mjs');
    expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('give the two set-up commands for a fresh machine in the README', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const pinned = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { packageManager: string }).packageManager;
    expect(readme).toContain(`npm install -g ${pinned} && pnpm install && pnpm demo`);
    expect(readme).toMatch(/```sh\npnpm test\n```/);
  });

  it('keep the README under 200 lines', () => {
    expect(readFileSync(join(repoRoot, 'README.md'), 'utf8').split('\n').length).toBeLessThanOrEqual(200);
  });
});
