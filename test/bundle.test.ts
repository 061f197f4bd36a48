// The CLI's bundle (scripts/bundle-cli.mjs, docs/install.md#how-the-cli-is-built) names
// every package it carries, with its version and licence, in the files the tarball ships.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/processes.js';

const cli = join(repoRoot, 'packages/cli');
const { packagesIn } = JSON.parse(readFileSync(join(cli, 'build/bundle-meta.json'), 'utf8')) as { packagesIn: Record<string, string[]> };
const bundled = [...new Set(Object.values(packagesIn).flat())].sort();

describe('the bundled CLI', () => {
  it('carries commander, undici, ora and chalk, and not keytar', () => {
    expect(bundled).toEqual(expect.arrayContaining(['chalk', 'commander', 'ora', 'undici']));
    expect(bundled).not.toContain('keytar');
  });

  it('lists every bundled package, at the version installed, in its SBOM and its licences file', () => {
    const sbom = JSON.parse(readFileSync(join(cli, 'dist/sbom.cdx.json'), 'utf8')) as {
      bomFormat: string;
      components: Array<{ name: string; version: string; purl: string; licenses: Array<{ expression: string }> }>;
    };
    expect(sbom.bomFormat).toBe('CycloneDX');
    expect(sbom.components.map((c) => c.name).sort()).toEqual(bundled);
    const licences = readFileSync(join(cli, 'dist/THIRD-PARTY-LICENSES.txt'), 'utf8');
    const undici = JSON.parse(readFileSync(join(cli, 'node_modules/undici/package.json'), 'utf8')) as { version: string };
    expect(sbom.components.find((c) => c.name === 'undici')?.purl).toBe(`pkg:npm/undici@${undici.version}`);
    for (const component of sbom.components) {
      expect(component.licenses[0]?.expression).toMatch(/^[A-Za-z0-9.\-+ ()]+$/);
      expect(licences).toContain(`${component.name}@${component.version} (${component.licenses[0]?.expression})\n`);
    }
  });
});
