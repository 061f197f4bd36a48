import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarizeByClass } from './classes.js';
import { parseHeapSnapshot } from './parse.js';
import { validateHeapSnapshot } from './validate.js';

const CHILD = fileURLToPath(new URL('./fixtures/snapshot-child.mjs', import.meta.url));

describe('validateHeapSnapshot', () => {
  let dir = '';
  let file = '';
  let bytes: Buffer;
  let json: { snapshot: { node_count: number; edge_count: number }; strings: string[] };
  const write = async (name: string, content: Uint8Array | string): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, content);
    return path;
  };
  const codeOf = (promise: Promise<unknown>): Promise<unknown> =>
    promise.then(
      () => 'OK',
      (error: unknown) => (error as { code?: unknown }).code,
    );

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'opsctl-heapsnapshot-'));
    const { stdout } = await promisify(execFile)(process.execPath, [CHILD, 'steady', dir]);
    [file = ''] = JSON.parse(stdout) as string[];
    bytes = await readFile(file);
    json = JSON.parse(bytes.toString('utf8')) as typeof json;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('accepts a complete snapshot and returns its counts', async () => {
    const counts = await validateHeapSnapshot(file);
    expect(counts).toMatchObject({
      nodeCount: json.snapshot.node_count,
      edgeCount: json.snapshot.edge_count,
      stringCount: json.strings.length,
      bytes: bytes.length,
    });
    expect(counts.header.nodeFields).toContain('self_size');
  });

  it('reads a stream as well as a path', async () => {
    expect((await validateHeapSnapshot(createReadStream(file))).nodeCount).toBe(json.snapshot.node_count);
  });

  it('reads a gzipped snapshot, recognised by its magic bytes whatever its name', async () => {
    const gzipped = await write('gzipped.heapsnapshot', gzipSync(bytes, { level: 1 }));
    expect((await validateHeapSnapshot(gzipped)).bytes).toBe(bytes.length);
    const summary = summarizeByClass(await parseHeapSnapshot(gzipped, { chunkSize: 4096 }));
    expect(summary.ids.length).toBeGreaterThan(10_000);
  });

  it('recognises gzip on a stream that delivers the magic bytes one at a time', async () => {
    const gzipped = gzipSync(bytes, { level: 1 });
    async function* trickle(): AsyncGenerator<Uint8Array> {
      yield gzipped.subarray(0, 1);
      yield gzipped.subarray(1, 2);
      yield gzipped.subarray(2);
    }
    expect((await validateHeapSnapshot(trickle())).bytes).toBe(bytes.length);
  });

  it('calls a file cut in the middle of the nodes truncated', async () => {
    const at = bytes.indexOf('"nodes":[') + 100_000;
    await expect(validateHeapSnapshot(await write('cut-nodes', bytes.subarray(0, at)))).rejects.toMatchObject({ code: 'HEAPSNAPSHOT_TRUNCATED', offset: at });
  });

  it('calls a file cut in the middle of the strings truncated, also when only the last bytes are missing', async () => {
    const at = bytes.indexOf('"strings":[') + 50_000;
    expect(await codeOf(validateHeapSnapshot(await write('cut-strings', bytes.subarray(0, at))))).toBe('HEAPSNAPSHOT_TRUNCATED');
    expect(await codeOf(validateHeapSnapshot(await write('cut-end', bytes.subarray(0, bytes.length - 3))))).toBe('HEAPSNAPSHOT_TRUNCATED');
  });

  it('calls a cut gzip stream truncated and corrupt gzip data malformed', async () => {
    const gzipped = gzipSync(bytes, { level: 1 });
    expect(await codeOf(validateHeapSnapshot(await write('cut.gz', gzipped.subarray(0, gzipped.length >> 1))))).toBe('HEAPSNAPSHOT_TRUNCATED');
    const corrupt = Buffer.from(gzipped);
    corrupt.fill(0x55, 1000, 1100);
    expect(await codeOf(validateHeapSnapshot(await write('corrupt.gz', corrupt)))).toBe('HEAPSNAPSHOT_MALFORMED');
  });

  it('tells other files apart: JSON, random bytes, an empty file', async () => {
    expect(await codeOf(validateHeapSnapshot(await write('package.json', JSON.stringify({ name: 'x', nodes: [1, 2] }))))).toBe('NOT_A_HEAPSNAPSHOT');
    expect(await codeOf(validateHeapSnapshot(await write('random.bin', Buffer.concat([Buffer.from([0x00]), randomBytes(64 * 1024)]))))).toBe(
      'NOT_A_HEAPSNAPSHOT',
    );
    expect(await codeOf(validateHeapSnapshot(await write('empty', '')))).toBe('HEAPSNAPSHOT_TRUNCATED');
  });

  it('calls a complete file with inconsistent counts malformed', async () => {
    const edited = bytes.toString('utf8').replace(/"node_count":(\d+)/, (_, count: string) => `"node_count":${Number(count) + 1}`);
    expect(await codeOf(validateHeapSnapshot(await write('miscounted', edited)))).toBe('HEAPSNAPSHOT_MALFORMED');
  });

  it('names the file in the message and lets file system errors through unchanged', async () => {
    const cut = await write('cut-for-message', bytes.subarray(0, 1000));
    await expect(validateHeapSnapshot(cut)).rejects.toThrow(cut);
    expect(await codeOf(validateHeapSnapshot(join(dir, 'missing')))).toBe('ENOENT');
  });
});
