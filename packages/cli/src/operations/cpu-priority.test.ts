import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// In a child of its own, from the build (pnpm test builds first): the lowered priority
// cannot be raised again without privilege.
const CHILD = `
const { readdirSync, readFileSync } = require('node:fs');
const niceOf = (tid) => Number(readFileSync('/proc/self/task/' + tid + '/stat', 'utf8').split(') ')[1].split(' ')[16]);
const all = () => readdirSync('/proc/self/task').map(niceOf);
import(process.argv[1]).then(({ yieldCpuToLocalProcess }) => {
  yieldCpuToLocalProcess();
  const after = all();
  // A thread started afterwards (libuv's pool starts lazily) inherits it.
  require('node:fs').readFile(__filename, () => console.log(JSON.stringify({ after, later: all() })));
});
`;

describe.runIf(process.platform === 'linux')('yieldCpuToLocalProcess', () => {
  it('lowers every thread of the process to nice 19, and threads started later inherit it', async () => {
    const module = new URL('../../build/operations/cpu-priority.js', import.meta.url).href;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', CHILD, module]);
    const { after, later } = JSON.parse(stdout) as { after: number[]; later: number[] };
    expect(after.length).toBeGreaterThan(1);
    expect(after.every((nice) => nice === 19)).toBe(true);
    expect(later.length).toBeGreaterThanOrEqual(after.length);
    expect(later.every((nice) => nice === 19)).toBe(true);
  });
});
