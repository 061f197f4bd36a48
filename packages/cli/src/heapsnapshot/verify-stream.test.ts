import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateHeapSnapshot } from './validate.js';
import { VerifyingStream } from './verify-stream.js';

const CHILD = fileURLToPath(new URL('./fixtures/snapshot-child.mjs', import.meta.url));

/** `bytes` through `verify` in pieces of `size`: what came out, and the error if any. */
async function through(verify: VerifyingStream, bytes: Buffer, size = 65_536): Promise<{ out: Buffer; error: unknown }> {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) pieces.push(bytes.subarray(at, at + size));
  const out: Buffer[] = [];
  const sink = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      out.push(chunk);
      done();
    },
  });
  const error = await pipeline(Readable.from(pieces), verify, sink).then(
    () => null,
    (e: unknown) => e,
  );
  return { out: Buffer.concat(out), error };
}

describe('VerifyingStream', () => {
  let dir = '';
  let snapshot: Buffer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'opsctl-verify-stream-'));
    const { stdout } = await promisify(execFile)(process.execPath, [CHILD, 'steady', dir]);
    const [file = ''] = JSON.parse(stdout) as string[];
    snapshot = await readFile(file);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('passes the bytes on unchanged and counts what a full read of them counts', async () => {
    const verify = new VerifyingStream();
    const { out, error } = await through(verify, snapshot);
    expect(error).toBeNull();
    expect(out.equals(snapshot)).toBe(true);
    const counts = verify.result();
    const again = await validateHeapSnapshot(Readable.from([snapshot]));
    expect(counts).toMatchObject({ nodeCount: again.nodeCount, edgeCount: again.edgeCount, stringCount: again.stringCount, bytes: snapshot.length });
    expect(verify.scanMs).toBeGreaterThan(0);
  });

  it('passes gzip on as it is and verifies what it holds', async () => {
    const compressed = gzipSync(snapshot, { level: 1 });
    const verify = new VerifyingStream({ compressed: true, chunkSize: 16_384 });
    const { out, error } = await through(verify, compressed, 1000);
    expect(error).toBeNull();
    expect(out.equals(compressed)).toBe(true);
    expect(verify.result().bytes).toBe(snapshot.length);
  });

  it('gives its verdict on a short stream only when asked, so that a reason sent after the body can come first', async () => {
    const verify = new VerifyingStream();
    const { error } = await through(verify, snapshot.subarray(0, snapshot.length - 100));
    expect(error).toBeNull();
    expect(() => verify.result()).toThrow(expect.objectContaining({ code: 'HEAPSNAPSHOT_TRUNCATED' }));
  });

  /** The snapshot with the bytes from `from` to `to` replaced by `by`. */
  const edited = (from: number, to: number, by: Buffer) => Buffer.concat([snapshot.subarray(0, from), by, snapshot.subarray(to)]);
  const edgesAt = () => snapshot.indexOf('"edges":[') + '"edges":['.length;

  it('counts the edges of a real snapshot in odd piece sizes', async () => {
    const full = await validateHeapSnapshot(Readable.from([snapshot]));
    for (const size of [4093, 65_537]) {
      const verify = new VerifyingStream();
      expect((await through(verify, snapshot, size)).error).toBeNull();
      expect(verify.result().edgeCount).toBe(full.edgeCount);
    }
  });

  it('finds a cut inside the edges array', async () => {
    const cut = snapshot.subarray(0, edgesAt() + Math.floor((snapshot.indexOf('"strings":[') - edgesAt()) / 2));
    const verify = new VerifyingStream();
    expect((await through(verify, cut)).error).toBeNull();
    expect(() => verify.result()).toThrow(
      expect.objectContaining({ code: 'HEAPSNAPSHOT_TRUNCATED', message: expect.stringContaining('inside "edges" at number') }),
    );
  });

  it('finds a hole of zeros, and bytes lost or sent twice, inside the edges array', async () => {
    const at = snapshot.indexOf(',', edgesAt() + 10_001) + 1; // a number's start
    const hole = edited(at, at + 4096, Buffer.alloc(4096));
    expect((await through(new VerifyingStream(), hole)).error).toMatchObject({
      code: 'HEAPSNAPSHOT_MALFORMED',
      message: expect.stringContaining('not part of a number'),
    });
    // A whole row of three numbers, so that the rest still parses: only the count tells.
    const row = snapshot.subarray(at, snapshot.indexOf(',', snapshot.indexOf(',', snapshot.indexOf(',', at) + 1) + 1) + 1);
    expect((await through(new VerifyingStream(), edited(at, at + row.length, Buffer.alloc(0)))).error).toMatchObject({
      code: 'HEAPSNAPSHOT_MALFORMED',
      message: expect.stringContaining('numbers but the header says'),
    });
    expect((await through(new VerifyingStream(), edited(at, at, row))).error).toMatchObject({
      message: expect.stringContaining('more numbers than the header'),
    });
  });

  it('leaves an edge pointing nowhere to a reader of the edges', async () => {
    // The first edge's target (its third number) set past the last node: complete, but wrong.
    const start = edgesAt();
    const fields = snapshot
      .subarray(start, start + 200)
      .toString('latin1')
      .split(/[,\n]+/);
    const target = snapshot.indexOf(fields[2] as string, snapshot.indexOf(',', snapshot.indexOf(',', start) + 1));
    const wrong = edited(target, target + (fields[2] as string).length, Buffer.from('999999999'));
    const verify = new VerifyingStream();
    expect((await through(verify, wrong)).error).toBeNull();
    expect(verify.result().nodeCount).toBeGreaterThan(0);
    await expect(validateHeapSnapshot(Readable.from([wrong]))).rejects.toMatchObject({
      code: 'HEAPSNAPSHOT_MALFORMED',
      message: expect.stringContaining('points at no node'),
    });
  });

  it('stops the stream at the first bytes that cannot be a snapshot', async () => {
    const notSnapshot = Buffer.concat([Buffer.from('{"other":1}'), Buffer.alloc(1_000_000, 0x20)]);
    const verify = new VerifyingStream();
    const { out, error } = await through(verify, notSnapshot, 1000);
    expect(error).toMatchObject({ code: 'NOT_A_HEAPSNAPSHOT' });
    expect(out.length).toBeLessThan(notSnapshot.length);
  });

  it('fails on gzip data that is corrupt', async () => {
    const compressed = gzipSync(snapshot);
    compressed.fill(0x41, 100, 200);
    const { error } = await through(new VerifyingStream({ compressed: true }), compressed);
    expect(error).toMatchObject({ code: expect.stringMatching(/^Z_/) });
  });
});
