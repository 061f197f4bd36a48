// Shared plumbing for benchmark scripts: start a server process, run a load process.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = (file) => fileURLToPath(new URL(file, import.meta.url));

/** Starts `node servers.mjs ...args`; see startServerWithEnv. */
export function startServer(...args) {
  return startServerWithEnv({}, ...args);
}

/**
 * Starts `node servers.mjs ...args` with `env` added to the environment; resolves with its
 * URLs, the bytes it has written on stderr so far (its audit), and a stop function.
 */
export async function startServerWithEnv(env, ...args) {
  const child = spawn(process.execPath, [here('./servers.mjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stderrBytes = 0;
  child.stderr.on('data', (chunk) => (stderrBytes += chunk.length));
  const urls = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server ${args.join(' ')} exited with ${code}`)));
    createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line)));
  });
  const stop = () =>
    new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
  return { urls, stop, stderrBytes: () => stderrBytes };
}

/** Runs scripts/bench/flood.mjs against `port` for `seconds`; resolves with its counts. */
export function flood(port, mode, connections, seconds) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [here('./flood.mjs'), String(port), mode, String(connections), String(seconds * 1000), 'opsctl_00000000000000000000000000000000000000000000ab'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.once('exit', () => (out ? resolve(JSON.parse(out)) : reject(new Error(`flood ${mode} printed nothing`))));
  });
}

/** Runs one autocannon load in a child process and resolves with its summary. */
export function load(url, seconds, connections, rate) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [here('./load.mjs'), url, String(seconds), String(connections), ...(rate ? [String(rate)] : [])], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load exited with ${code}`))));
  });
}

/**
 * Saturating throughput with wrk (C, epoll): a JavaScript load generator parses
 * responses slower than node:http writes them and would measure itself instead.
 */
export function wrk(url, seconds, connections, headers = []) {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, ...headers.flatMap((h) => ['-H', h]), url], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.once('error', () => reject(new Error('wrk is needed for throughput figures: apt-get install wrk')));
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.once('exit', (code) => {
      const rate = /Requests\/sec:\s+([\d.]+)/.exec(out);
      if (code !== 0 || !rate) return reject(new Error(`wrk failed: ${out}`));
      const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
      resolve({ requestsPerSecond: Number(rate[1]), non2xx: non2xx ? Number(non2xx[1]) : 0 });
    });
  });
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
