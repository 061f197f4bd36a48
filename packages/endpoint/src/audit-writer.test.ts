import { describe, expect, it } from 'vitest';
import { LineQueue, type ChunkWrite } from './audit-writer.js';

/** A pipe played by hand: each write takes what `take` says (a byte count, or EAGAIN). */
function pipe(take: (chunk: Buffer) => number | 'EAGAIN') {
  const written: Buffer[] = [];
  const retries: (() => void)[] = [];
  const write: ChunkWrite = (chunk, done) => {
    const taken = take(chunk);
    if (taken === 'EAGAIN') return queueMicrotask(() => done(Object.assign(new Error('full'), { code: 'EAGAIN' }), 0));
    written.push(chunk.subarray(0, taken));
    queueMicrotask(() => done(null, taken));
  };
  const queue = new LineQueue({
    write,
    maxQueuedBytes: 64,
    droppedNotice: (lines) => `{"dropped":${lines}}\n`,
    onError: () => {},
    retryLater: (drain) => retries.push(drain),
  });
  return {
    queue,
    written: () => Buffer.concat(written).toString(),
    retry: () => {
      for (const drain of retries.splice(0)) drain();
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("the audit writer's queue", () => {
  it('writes the rest of a line the pipe took half of before anything else, the drop notice included', async () => {
    let calls = 0;
    // The first write takes 5 bytes; the second finds the pipe full; then it takes all.
    const { queue, written, retry } = pipe((chunk) => (++calls === 1 ? 5 : calls === 2 ? 'EAGAIN' : chunk.length));
    queue.push('{"n":1}\n{"n":2}\n');
    await tick();
    // While the pipe is full, more than 64 bytes wait: these are dropped and counted.
    queue.push(`${'{"n":3}\n'.repeat(10)}`);
    await tick();
    retry();
    await tick();
    const lines = written().split('\n').filter(Boolean);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(lines).toEqual(['{"n":1}', '{"n":2}', '{"dropped":10}']);
  });

  it('keeps the order of lines across short writes', async () => {
    const { queue, written } = pipe((chunk) => Math.min(chunk.length, 3));
    for (let n = 0; n < 5; n++) queue.push(`{"n":${n}}\n`);
    for (let i = 0; i < 40; i++) await tick();
    expect(written()).toBe('{"n":0}\n{"n":1}\n{"n":2}\n{"n":3}\n{"n":4}\n');
  });
});
