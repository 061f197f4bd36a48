// The container recipe: examples/docker/Dockerfile linted by the rules below (hadolint
// is not packaged by Debian) and built and run where a container engine answers; the
// Kubernetes manifest of docs/kubernetes.md validated against the Kubernetes object
// schemas of the npm package kubernetes-models, and checked for its wiring.
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseTokenList } from '@opsctl/endpoint';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Secret } from 'kubernetes-models/v1/Secret';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { mintToken, repoRoot } from './support/processes.js';
import { packTarballs } from './support/packages.js';

const example = join(repoRoot, 'examples/docker');
const endpointVersion = (JSON.parse(readFileSync(join(repoRoot, 'packages/endpoint/package.json'), 'utf8')) as { version: string }).version;

/** The Dockerfile's instructions, continuation lines joined, comments dropped. */
function instructions(dockerfile: string): { op: string; args: string }[] {
  return dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [op = '', ...rest] = line.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

describe('examples/docker/Dockerfile', () => {
  const steps = instructions(readFileSync(join(example, 'Dockerfile'), 'utf8'));
  const index = (op: string, match: RegExp = /./) => steps.findIndex((step) => step.op === op && match.test(step.args));

  it('starts from an official Node image of a supported major, by tag', () => {
    const from = steps.filter((step) => step.op === 'FROM');
    expect(from).toHaveLength(1);
    const [, major] = /^node:(\d+)[-.\w]*$/.exec(from[0]!.args) ?? [];
    expect(Number(major)).toBeGreaterThanOrEqual(20);
  });

  it('installs the packed endpoint before preloading it, and preloads it by NODE_OPTIONS', () => {
    const tarball = `opsctl-endpoint-${endpointVersion}.tgz`;
    expect(steps[index('COPY', new RegExp(tarball.replace(/\./g, '\\.')))]).toBeDefined();
    const pkg = JSON.parse(readFileSync(join(example, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies['@opsctl/endpoint']).toBe(`file:${tarball}`);
    const install = index('RUN', /\bnpm (install|ci)\b.*--omit=dev/);
    const preload = index('ENV', /^NODE_OPTIONS="?--import @opsctl\/endpoint\/register"?$/);
    expect(install).toBeGreaterThanOrEqual(0);
    expect(preload).toBeGreaterThan(install);
  });

  it('runs as a user other than root, node itself in exec form, and keeps tokens out of the image', () => {
    const user = index('USER');
    expect(user).toBeGreaterThanOrEqual(0);
    expect(steps[user]!.args).not.toMatch(/^(root|0)(:|$)/);
    const cmd = steps.filter((step) => step.op === 'CMD' || step.op === 'ENTRYPOINT');
    expect(cmd.at(-1)?.args).toMatch(/^\["node",/);
    expect(steps.filter((step) => step.op === 'ADD')).toEqual([]);
    expect(steps.filter((step) => /OPSCTL_TOKENS|OPSCTL_HOST/.test(step.args) && step.op !== 'RUN')).toEqual([]);
    // The endpoint listens on the container's loopback: no port of its own to publish.
    expect(steps.filter((step) => step.op === 'EXPOSE').map((step) => step.args)).not.toContain('9500');
  });
});

describe('the Kubernetes manifest in docs/kubernetes.md', () => {
  const page = readFileSync(join(repoRoot, 'docs/kubernetes.md'), 'utf8');
  const blocks = [...page.matchAll(/^```yaml\n([\s\S]*?)^```/gm)].map((match) => match[1]!);
  const objects = blocks.flatMap((block) =>
    parseAllDocuments(block).map((doc) => {
      expect(doc.errors).toEqual([]);
      return doc.toJS() as { kind: string; metadata: { name: string } };
    }),
  );
  const secret = objects.find((object) => object.kind === 'Secret') as Secret | undefined;
  const deployment = objects.find((object) => object.kind === 'Deployment') as Deployment | undefined;

  it('holds a Secret and a Deployment that the Kubernetes schemas accept', () => {
    expect(objects.map((object) => object.kind).sort()).toEqual(['Deployment', 'Secret']);
    expect(() => new Secret(secret).validate()).not.toThrow();
    expect(() => new Deployment(deployment).validate()).not.toThrow();
  });

  it('gives OPSCTL_TOKENS, hashes only, from that Secret to the container', () => {
    const tokens = secret!.stringData?.['OPSCTL_TOKENS'] ?? '';
    expect(() => parseTokenList(tokens)).not.toThrow();
    expect(tokens).not.toMatch(/opsctl_/);
    const container = deployment!.spec!.template.spec!.containers[0]!;
    const fromSecret = container.env?.find((variable) => variable.name === 'OPSCTL_TOKENS')?.valueFrom?.secretKeyRef;
    expect(fromSecret).toEqual({ name: secret!.metadata!.name, key: 'OPSCTL_TOKENS' });
  });

  it('keeps the endpoint on loopback, reached by kubectl port-forward', () => {
    const container = deployment!.spec!.template.spec!.containers[0]!;
    expect(container.env?.map((variable) => variable.name)).not.toContain('OPSCTL_HOST');
    expect(container.ports?.map((port) => port.containerPort)).not.toContain(9500);
    expect(page).toContain('kubectl port-forward pod/');
    expect(page).toContain(`deploy/${deployment!.metadata!.name}`);
  });
});

/** True where a container engine answers (the docker CLI and a daemon it can reach). */
function engineAnswers(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!engineAnswers())('the image of examples/docker', () => {
  const run = promisify(execFile);
  const context = mkdtempSync(join(tmpdir(), 'opsctl-image-'));
  const tag = `opsctl-example-shop:${process.pid}`;
  let container = '';
  afterAll(async () => {
    if (container) await run('docker', ['rm', '-f', container]).catch(() => undefined);
    await run('docker', ['rmi', '-f', tag]).catch(() => undefined);
    rmSync(context, { recursive: true, force: true });
  });

  it('builds, and starts the application with the endpoint listening on its loopback', async () => {
    for (const file of ['Dockerfile', 'package.json', 'app.js']) copyFileSync(join(example, file), join(context, file));
    await packTarballs(context);
    await run('docker', ['build', '-t', tag, context], { maxBuffer: 64 << 20 });
    const admin = await mintToken('sre', 'admin');
    container = (await run('docker', ['run', '-d', '-e', `OPSCTL_TOKENS=${admin.line}`, tag])).stdout.trim();
    let logs = '';
    for (let attempt = 0; attempt < 60 && !logs.includes('maintenance endpoint listening on'); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const { stdout, stderr } = await run('docker', ['logs', container]);
      logs = stdout + stderr;
    }
    expect(logs).toContain('opsctl: maintenance endpoint listening on http://127.0.0.1:9500');
    const probe = `fetch('http://127.0.0.1:9500/info', { headers: { authorization: 'Bearer ${admin.token}' } }).then((r) => process.exit(r.status === 200 ? 0 : 1))`;
    await expect(run('docker', ['exec', '-e', 'NODE_OPTIONS=', container, 'node', '-e', probe])).resolves.toBeDefined();
  });
});
